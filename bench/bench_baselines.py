"""The baselines a dataset family must beat on a held-out person, measured on dataset folders:
each frame of a subject reconstructed from its first frame by (a) that frame copied unchanged,
(b) the piecewise-affine warp of its DensePose parts by its bones, over the background plate.

    .venv/bin/python bench/bench_baselines.py results/subjects/dancer [more folders]
        [--frames 24]

A folder needs frames/, densepose/, openpose_json/ and bg.jpg (the workflow's dataset
folder). --frames evenly spaced frames after the first are reconstructed; printed per folder:
mean SSIM, PSNR (dB) and L1 (0..1) of each baseline against the real frames, and its time per
frame.
"""

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.core.draw import evenly_spaced  # noqa: E402
from pose_animate.core.formats import (frame_name, read_image, read_iuv,  # noqa: E402
                                       read_openpose_folder)
from pose_animate.renderers.baselines import piecewise_affine  # noqa: E402
from pose_animate.renderers.metrics import image_metrics  # noqa: E402


def measure(folder: Path, n_frames: int) -> None:
    people = read_openpose_folder(folder / "openpose_json")
    first = read_image(folder / "frames" / frame_name(0))
    parts = read_iuv(folder / "densepose" / frame_name(0))[0]
    plate = cv2.resize(read_image(folder / "bg.jpg"), first.shape[1::-1])
    rows = {"source copy": [], "piecewise affine": []}
    seconds = {k: 0.0 for k in rows}
    picks = [t + 1 for t in evenly_spaced(len(people) - 1, n_frames)]
    for t in picks:
        real = read_image(folder / "frames" / frame_name(t))
        for name, make in (("source copy", lambda: first),
                           ("piecewise affine", lambda: piecewise_affine(
                               first, parts, people[0], people[t], plate))):
            start = time.perf_counter()
            fake = make()
            seconds[name] += time.perf_counter() - start
            rows[name].append(image_metrics(fake, real))
    print(f"{folder} ({len(people)} frames, {len(picks)} reconstructed from frame 0, "
          f"{first.shape[1]}x{first.shape[0]})")
    for name, metrics in rows.items():
        mean = {k: float(np.mean([m[k] for m in metrics])) for k in ("ssim", "psnr", "l1")}
        print(f"  {name:17s} SSIM {mean['ssim']:.4f}  PSNR {mean['psnr']:6.2f}  "
              f"L1 {mean['l1']:.4f}  {1000 * seconds[name] / len(picks):6.1f} ms/frame")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--frames", type=int, default=24)
    args = parser.parse_args()
    for folder in args.folders:
        measure(folder, args.frames)


if __name__ == "__main__":
    main()
