"""Do real detectors see the demo figures? For each figure of config/config.yaml (or the
given config): write the demo clip, decode its video.mp4 (the lossy file the pipeline reads),
run mediapipe Pose in video mode, and compare with the exact keypoints.

Prints per figure: generation time, detection rate, median joint error as a fraction of
body height (nose to ankle), per-joint medians. Goals: >= 95% detected, median < 3%.

    .venv/bin/python bench/check_synth_detectability.py [--config config/config.yaml]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pose_animate.core.config import load_config  # noqa: E402
from pose_animate.core.formats import read_openpose_folder  # noqa: E402
from pose_animate.synth import write_demo  # noqa: E402
from pose_animate.synth.detectability import detect_mediapipe, detection_stats  # noqa: E402


def decode(path):
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="bgr24")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("--model-complexity", type=int, default=1)
    args = ap.parse_args()
    figures = load_config(args.config)["demo"]["figures"]
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name, params in figures.items():
            out = Path(tmp) / name
            start = time.perf_counter()
            write_demo(out, **params)
            made = time.perf_counter() - start
            truth = read_openpose_folder(out / "truth" / "keypoints")
            start = time.perf_counter()
            detected = detect_mediapipe(decode(out / "video.mp4"), args.model_complexity)
            seconds = time.perf_counter() - start
            s = detection_stats(truth, detected)
            joints = ", ".join(f"{k} {v:.3f}" for k, v in s["per_joint_median_error"].items())
            print(f"{name}: {s['frames']} frames {params['size']}px written in {made:.1f} s "
                  f"({s['frames'] / made:.0f} frames/s); mediapipe {seconds / s['frames'] * 1e3:.0f}"
                  f" ms/frame")
            print(f"  per-joint median error / body height: {joints}")
            print(f"  {name}: detected {s['detected']}/{s['frames']} "
                  f"({100 * s['detection_rate']:.1f}%), median joint error "
                  f"{100 * s['median_error']:.2f}% of body height")
            ok &= s["detection_rate"] >= 0.95 and s["median_error"] < 0.03
    print("all figures meet the goal (>= 95% detected, median error < 3%)" if ok
          else "GOAL MISSED")


if __name__ == "__main__":
    main()
