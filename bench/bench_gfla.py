"""gfla on people it never saw, generated and real, against the source-copy and
piecewise-affine baselines.

    .venv/bin/python bench/bench_gfla.py                  # ../shared/realdata/videos
    .venv/bin/python bench/bench_gfla.py --test-video mine.mp4 --train-video a.mp4 b.mp4

The workflow trains one gfla model (tiny preset) on a dataset of the demo's 16 train figures
(config/gfla.yaml) and the real train videos, evaluates it on the demo's 4 test figures and
the real test video (each reconstructed from its first frame and its own skeletons), and
renders the demo's driving figure onto the real test subject and onto a test figure, in a
work folder (default bench/out/gfla; a finished folder is only read again). Prints the eval
table over all test subjects, then per test subject, and the training time.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
VIDEOS = REPO.parent / "shared" / "realdata" / "videos"
METRICS = ["ssim", "psnr", "l1", "l1_mask", "keypoint_px", "detected_fraction",
           "warping_error"]


def workflow_config(train_real: dict, test_real: dict, steps: int) -> dict:
    demo = yaml.safe_load((REPO / "config" / "gfla.yaml").read_text())
    people = demo["datasets"]["people"]
    test_figure = people["test"][0]
    (real_test,) = test_real
    return {
        "subjects": "subjects_bench_gfla.tsv",
        "demo": demo["demo"],
        "datasets": {"people_real": {"train": people["train"] + list(train_real),
                                     "test": people["test"] + list(test_real)}},
        "models": [{"family": "gfla", "dataset": "people_real"}],
        "families": {"gfla": {**demo["families"]["gfla"], "steps": steps}},
        "renders": [{"family": "gfla", "dataset": "people_real", "target": target,
                     "driving": "demo_driving"} for target in (real_test, test_figure)],
        "exports": [],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train-video", type=Path, nargs="*",
                    default=[VIDEOS / "musepose_dance.mp4",
                             VIDEOS / "mmhuman3d_multi_person_demo.mp4"])
    ap.add_argument("--test-video", type=Path, default=VIDEOS / "mmhuman3d_single_person_demo.mp4")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--prepare-only", action="store_true",
                    help="run the stages of the real subjects only (no training)")
    args = ap.parse_args(argv)
    for video in [*args.train_video, args.test_video]:
        if not video.exists():
            sys.exit(f"no video {video} (give --train-video / --test-video)")

    def name(video: Path) -> str:
        return "real_" + "".join(c if c.isalnum() else "_" for c in video.stem)

    train_real = {name(v): v.resolve() for v in args.train_video}
    test_real = {name(args.test_video): args.test_video.resolve()}
    work = (args.work or REPO / "bench" / "out" / "gfla").resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "config").exists():  # the defaults (config/config.yaml) the Snakefile reads
        (work / "config").symlink_to(REPO / "config")
    config = workflow_config(train_real, test_real, args.steps)
    (work / "bench_gfla.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    figures = [*config["demo"]["figures"], "demo_driving"]  # the last from config/config.yaml
    rows = [f"{s}\tresults/demo/{s}/video.mp4" for s in figures]
    rows += [f"{s}\t{v}" for s, v in {**train_real, **test_real}.items()]
    (work / "subjects_bench_gfla.tsv").write_text("subject\tvideo\n" + "\n".join(rows) + "\n")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--configfile", "bench_gfla.yaml", "--cores", str(args.cores)]
    if args.prepare_only:
        cmd += [f"results/{part}" for s in {**train_real, **test_real}
                for part in (f"subjects/{s}/meta.json", f"work/{s}/flow_valid")]
    print("$", " ".join(cmd), f"(in {work})", flush=True)
    subprocess.run(cmd, cwd=work, check=True)
    if args.prepare_only:
        return

    results = work / "results"
    record = json.loads((results / "eval" / "gfla" / "people_real.json").read_text())
    trained = json.loads((results / "models" / "gfla" / "people_real" / "train.json")
                         .read_text())

    def table(title: str, entry: dict) -> None:
        print(f"\n{title}")
        print("| | " + " | ".join(METRICS) + " |")
        print("|---" * (len(METRICS) + 1) + "|")
        for label, metrics in [("gfla", entry["model"]), *entry["baselines"].items(),
                               ("real frames", entry["real_frames"])]:
            cells = ["" if metrics.get(k) is None else f"{metrics[k]:.4g}" for k in METRICS]
            print(f"| {label.replace('_', ' ')} | " + " | ".join(cells) + " |")

    table(f"all test subjects ({record['heldout']['frames']} frames)", record)
    for subject, entry in record["subjects"].items():
        table(f"{subject} ({entry['frames']} frames from frame {entry['reference_frame']})",
              entry)
    print(f"\ngfla: {trained['steps']} steps in {trained['seconds_this_run']} s "
          f"({trained['images_per_s']} images/s, {trained['device']}), "
          f"{len(trained['subjects'])} train subjects, {trained['frames']} frames")
    print("beats:", {b: {k: v for k, v in r.items() if v is not None}
                     for b, r in record["beats_baselines"].items()})
    print(f"renders: {results / 'renders' / 'gfla'}/*__demo_driving/")


if __name__ == "__main__":
    main()
