"""d2g against edn and the nearest-neighbour baseline on one subject's held-out frames, at the
same number of training steps and at the same wall time.

    .venv/bin/python bench/bench_d2g.py                      # the demo target
    .venv/bin/python bench/bench_d2g.py --video ../shared/realdata/videos/musepose_dance.mp4

The workflow trains and evaluates both families on the subject (`models:` edn and d2g, the same
steps), renders the demo's driving figure onto both, in a work folder (default
bench/out/d2g/<subject>); then edn is trained again through the engine for the wall time d2g
took, and evaluated the same way. Prints one table (the eval JSONs' metrics) and where the
renders are.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
METRICS = ["ssim", "psnr", "l1", "l1_mask", "keypoint_px", "warping_error"]


def workflow_config(subject: str, steps: int, frames_size: int) -> dict:
    common = {"preset": "tiny", "steps": steps, "batch_size": 2, "workers": 0,
              "checkpoint_every": 100, "log_every": 20}
    demo = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["demo"]
    return {
        "subjects": "subjects.tsv", "demo": demo, "frames": {"crop": "person",
                                                            "size": frames_size},
        "models": [{"family": "edn", "subject": subject}, {"family": "d2g", "subject": subject}],
        "families": {"edn": {**common, "use_background": True, "mask_weight": 2.0},
                     "d2g": {**common, "static_steps": steps // 4}},
        "renders": [{"family": f, "target": subject, "driving": "demo_driving"}
                    for f in ("edn", "d2g")],
    }


def run_workflow(work: Path, config: dict, sheet: str, cores: int) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (work / "subjects.tsv").write_text(sheet)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--configfile", "config.yaml", "--cores", str(cores)]
    print("$", " ".join(cmd), f"(in {work})", flush=True)
    subprocess.run(cmd, cwd=work, check=True)


def wall_time_edn(work: Path, subject: str, config: dict, seconds: float,
                  edn_seconds: float) -> tuple[dict, int]:
    """edn trained for d2g's wall time (steps scaled by the measured time per step), and its
    evaluation; the same engine and evaluation as the workflow's."""
    from pose_animate.core.config import settings
    from pose_animate.renderers.engine import train
    from pose_animate.renderers.evaluate import evaluate

    steps = max(1, round(config["families"]["edn"]["steps"] * seconds / edn_seconds))
    run = work / "results" / "work" / "models" / "edn_wall_time" / subject
    cfg = settings("families.edn", {**config["families"]["edn"], "steps": steps})
    train("edn", [work / "results" / "subjects" / subject], run / "model.pt", run, cfg,
          name=subject, threads=2)
    keypoints = settings("keypoints", config.get("keypoints", {}))
    record = evaluate(run / "model.pt", work / "results" / "subjects" / subject, run / "cache",
                      keypoints, valid_dir=work / "results" / "work" / subject / "flow_valid",
                      device="cpu").record
    return record, steps


def surface_against_truth(work: Path, subject: str, record: dict) -> dict:
    """The demo only: d2g's predicted IUV on the held-out frames, and the dataset's densepose/
    (the skeleton backend it learnt from), against the generator's exact IUV, mapped through
    the frames stage's crop (nearest) to the model's size."""
    import cv2
    import numpy as np

    from pose_animate.core.formats import frame_name, read_json, read_openpose_folder, read_iuv
    from pose_animate.densepose.metrics import iuv_agreement
    from pose_animate.renderers.family import Driving
    from pose_animate.renderers.inference import load_model

    results = work / "results"
    frames = read_json(results / "work" / subject / "frames.json")
    (x, y, _, _), (sx, sy) = frames["crop_box"], frames["scale"]
    to_frame = np.float32([[sx, 0, (0.5 - x) * sx - 0.5], [0, sy, (0.5 - y) * sy - 0.5]])
    state, animator = load_model(results / "models" / "d2g" / subject / "model.pt", "cpu")
    h, w = state["spec"]["inputs"]["map_hw"]
    keypoints = read_openpose_folder(results / "subjects" / subject / "openpose_json")
    first, last = record["heldout"]["subjects"][subject]

    def at_model_size(iuv, size):
        img = np.stack([iuv[0].astype(np.float32), iuv[1], iuv[2]], axis=2)
        if size is not None:
            img = cv2.warpAffine(img, to_frame, size, flags=cv2.INTER_NEAREST)
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST)
        return np.rint(img[..., 0]).astype(np.uint8), img[..., 1], img[..., 2]

    scores = {"d2g TransG": [], "dataset densepose/ (skeleton backend)": []}
    for t in range(first, last + 1):
        animator.frame(Driving(keypoints[t]))
        truth = at_model_size(read_iuv(results / "demo" / subject / "truth" / "iuv" /
                                       frame_name(t)), tuple(frames["size"]))
        dataset = at_model_size(read_iuv(results / "subjects" / subject / "densepose" /
                                         frame_name(t)), None)
        scores["d2g TransG"].append(iuv_agreement(animator.iuv(), truth))
        scores["dataset densepose/ (skeleton backend)"].append(iuv_agreement(dataset, truth))
    return {name: {k: round(float(np.mean([r[k] for r in rows])), 3)
                   for k in ("part_accuracy", "u_mae", "v_mae", "fg_iou")}
            for name, rows in scores.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", help="a real video as the subject (default: the demo target)")
    parser.add_argument("--subject", default=None, help="its subject id (default: the file stem)")
    parser.add_argument("--steps", type=int, default=1200, help="training steps of both families")
    parser.add_argument("--size", type=int, default=256, help="frames.size of the dataset")
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args(argv)
    sheet = ("subject\tvideo\n"
             "demo_target\tresults/demo/demo_target/video.mp4\n"
             "demo_driving\tresults/demo/demo_driving/video.mp4\n")
    subject = "demo_target"
    if args.video:
        video = Path(args.video).resolve()
        subject = args.subject or video.stem.replace("__", "_")
        sheet += f"{subject}\t{video}\n"
    work = (args.work or REPO / "bench" / "out" / "d2g" / subject).resolve()
    config = workflow_config(subject, args.steps, args.size)
    run_workflow(work, config, sheet, args.cores)

    results = work / "results"
    evals = {f: json.loads((results / "eval" / f / f"{subject}.json").read_text())
             for f in ("edn", "d2g")}
    trained = {f: json.loads((results / "models" / f / subject / "train.json").read_text())
               for f in ("edn", "d2g")}
    edn_wall, edn_wall_steps = wall_time_edn(
        work, subject, config, trained["d2g"]["seconds_this_run"],
        trained["edn"]["seconds_this_run"])
    rows = [(f"d2g, {args.steps} steps", evals["d2g"]["model"], trained["d2g"]),
            (f"edn, {args.steps} steps (same steps)", evals["edn"]["model"], trained["edn"]),
            (f"edn, {edn_wall_steps} steps (same wall time)", edn_wall["model"], None),
            ("nearest neighbour", evals["d2g"]["baselines"]["nearest_neighbour"], None),
            ("real frames", evals["d2g"]["real_frames"], None)]
    held = evals["d2g"]["heldout"]
    print(f"\n{subject}: held-out frames {held['subjects'][subject]}, nearest training pose "
          f"{held['nearest_pose_distance_body_fraction']} body heights away")
    print("| | " + " | ".join(METRICS) + " | train s | images/s |")
    print("|---" * (len(METRICS) + 3) + "|")
    for label, metrics, record in rows:
        cells = [("" if metrics.get(m) is None else f"{metrics[m]:.4g}") for m in METRICS]
        extra = [f"{record['seconds_this_run']:.0f}", f"{record['images_per_s']:.1f}"] \
            if record else ["", ""]
        print(f"| {label} | " + " | ".join(cells + extra) + " |")
    surface = evals["d2g"].get("surface")
    if surface:
        print(f"\nd2g's predicted IUV against densepose/: part accuracy "
              f"{surface['part_accuracy']}, U error {surface['u_mae']}, V error "
              f"{surface['v_mae']}, foreground IoU {surface['fg_iou']}")
    if subject == "demo_target":
        print("\nagainst the demo's exact IUV, held-out frames:")
        for name, scores in surface_against_truth(work, subject, evals["d2g"]).items():
            print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in scores.items()))
    print(f"\nrenders: {results / 'renders'}/{{edn,d2g}}/{subject}__demo_driving/")


if __name__ == "__main__":
    main()
