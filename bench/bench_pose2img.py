"""pose2img against edn and the nearest-neighbour baseline on a speaker's held-out frames, and
its renders from a gesture file and from the demo's driving figure.

    .venv/bin/python bench/bench_pose2img.py        # ../shared/realdata/upper_body's speaker
    .venv/bin/python bench/bench_pose2img.py --video talk.mp4 --gestures talk.npz

The workflow trains and evaluates both families on the speaker (`models:` pose2img and edn,
tiny presets, the steps given), renders the gesture file (the speech-driven seed's
`poses_pred_batch`) and the demo's driving figure onto pose2img, in a work folder (default
bench/out/pose2img/<subject>; a finished folder is only read again). Prints one table of the
eval JSONs' metrics, face and hands included, each family's training time, and the renders.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
UPPER_BODY = REPO.parent / "shared" / "realdata" / "upper_body"
METRICS = ["ssim", "psnr", "l1", "l1_mask", "keypoint_px", "keypoint_face_px",
           "keypoint_hands_px", "face_hands_found_fraction", "warping_error"]


def workflow_config(subject: str, steps: int, edn_steps: int, gestures: Path | None) -> dict:
    common = {"preset": "tiny", "batch_size": 2, "workers": 0, "checkpoint_every": 100,
              "log_every": 20}
    demo = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["demo"]
    renders = [{"family": "pose2img", "target": subject, "driving": "demo_driving"}]
    if gestures:
        renders.insert(0, {"family": "pose2img", "target": subject,
                           "gestures": str(gestures.resolve())})
    return {
        "subjects": "subjects.tsv",
        "demo": {"figures": {"demo_driving": demo["figures"]["demo_driving"]}},
        "frames": {"crop": "person", "size": 256},
        "keypoints": {"backend": "mediapipe", "face_hands": True},
        "models": [{"family": "pose2img", "subject": subject},
                   {"family": "edn", "subject": subject}],
        "families": {"pose2img": {**common, "steps": steps},
                     "edn": {**common, "steps": edn_steps, "use_background": True,
                             "mask_weight": 2.0}},
        "renders": renders,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--video", type=Path, default=UPPER_BODY / "pose2img_speaker_640.mp4")
    ap.add_argument("--gestures", type=Path,
                    default=UPPER_BODY / "pose2img_driving_gestures.npz")
    ap.add_argument("--subject", default="speaker")
    ap.add_argument("--steps", type=int, default=1500, help="pose2img training steps")
    ap.add_argument("--edn-steps", type=int, default=1200, help="edn training steps")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--work", type=Path)
    args = ap.parse_args(argv)
    if not args.video.exists():
        sys.exit(f"no video {args.video} (give --video)")
    gestures = args.gestures if args.gestures and args.gestures.exists() else None
    subject = args.subject
    work = (args.work or REPO / "bench" / "out" / "pose2img" / subject).resolve()
    work.mkdir(parents=True, exist_ok=True)
    config = workflow_config(subject, args.steps, args.edn_steps, gestures)
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (work / "subjects.tsv").write_text(
        f"subject\tvideo\n{subject}\t{args.video.resolve()}\n"
        "demo_driving\tresults/demo/demo_driving/video.mp4\n")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--configfile", "config.yaml", "--cores", str(args.cores)]
    print("$", " ".join(cmd), f"(in {work})", flush=True)
    subprocess.run(cmd, cwd=work, check=True)

    results = work / "results"
    evals = {f: json.loads((results / "eval" / f / f"{subject}.json").read_text())
             for f in ("pose2img", "edn")}
    trained = {f: json.loads((results / "models" / f / subject / "train.json").read_text())
               for f in ("pose2img", "edn")}
    rows = [(f"pose2img, {args.steps} steps", evals["pose2img"]["model"]),
            (f"edn, {args.edn_steps} steps", evals["edn"]["model"]),
            ("nearest neighbour", evals["pose2img"]["baselines"]["nearest_neighbour"]),
            ("real frames", evals["pose2img"]["real_frames"])]
    held = evals["pose2img"]["heldout"]
    frames = ", ".join(f"{s} {a}-{b}" for s, (a, b) in held["subjects"].items())
    print(f"\n{subject}: held-out frames {frames} ({held['frames']}), nearest training pose "
          f"{held['nearest_pose_distance_body_fraction']} body heights away; "
          f"{evals['pose2img']['keypoints_compared']}")
    print("| | " + " | ".join(METRICS) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for name, metrics in rows:
        cells = ["" if metrics.get(k) is None else f"{metrics[k]:.4g}" for k in METRICS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for family, record in trained.items():
        print(f"{family}: {record['steps']} steps in {record['seconds_this_run']} s "
              f"({record['images_per_s']} images/s, {record['device']})")
    print("beats nearest neighbour:", {k: v for k, v in evals["pose2img"]["beats_baselines"]
                                       ["nearest_neighbour"].items() if v is not None})
    print(f"renders: {results / 'renders' / 'pose2img'}/{subject}__*/")


if __name__ == "__main__":
    main()
