"""Background plate vs the demo clip's true background: PSNR on seen and inpainted pixels.

    .venv/bin/python bench/bench_background.py [--frames 48] [--size 256]

The demo figure (pose_animate.synth) dances in place in front of a known background. The plate
is built from the exact masks (to measure the plate alone) and from our masks (the stage as
the pipeline runs it), with each inpainting method; a slowly panning camera must be flagged.
"""

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.appearance.background import build_plate  # noqa: E402
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.core.formats import read_image  # noqa: E402
from pose_animate.appearance.masks import compute_masks  # noqa: E402
from pose_animate.synth import write_demo  # noqa: E402


def psnr(a, b, where):
    if not where.any():
        return float("nan")
    mse = np.mean((a[where].astype(np.float64) - b[where].astype(np.float64)) ** 2)
    return 10 * np.log10(255 ** 2 / max(mse, 1e-10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    logging.getLogger("pose_animate").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="bench_background_"))
    write_demo(work / "static", seed=0, n_frames=args.frames, size=args.size)
    truth = work / "static" / "truth"
    ours = work / "our_masks"
    compute_masks(truth / "frames", truth / "keypoints", ours, settings("masks"))
    background = read_image(truth / "background.png")
    print(f"demo clip: {args.frames} frames {args.size}x{args.size}, figure dancing in place")
    print(f"{'masks':10s}{'inpaint':8s}{'seen PSNR':>11s}{'inpainted PSNR':>16s}"
          f"{'inpainted %':>13s}{'s':>7s}")
    for label, masks in (("exact", truth / "mask"), ("ours", ours)):
        for method in ("telea", "ns", "fsr"):
            start = time.perf_counter()
            plate, hole, summary = build_plate(truth / "frames", masks, inpaint=method)
            seconds = time.perf_counter() - start
            ok, buf = cv2.imencode(".jpg", plate, [cv2.IMWRITE_JPEG_QUALITY, 95,
                                                   cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                                                   cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444])
            plate = cv2.imdecode(buf, cv2.IMREAD_COLOR)  # as bg.jpg stores it
            print(f"{label:10s}{method:8s}{psnr(plate, background, ~hole):11.2f}"
                  f"{psnr(plate, background, hole):16.2f}"
                  f"{100 * summary['inpainted_fraction']:13.1f}{seconds:7.2f}")
    print(f"static camera: drift measured {summary['camera_motion_px']} px, "
          f"clean_plate={summary['clean_plate']}")
    for pan in (0.25, 0.5, 1.0):
        write_demo(work / f"pan{pan}", seed=0, n_frames=args.frames, size=args.size,
                   pan=[pan, 0.0])
        t = work / f"pan{pan}" / "truth"
        _, _, summary = build_plate(t / "frames", t / "mask")
        print(f"camera pan {pan} px/frame over {args.frames} frames: drift measured "
              f"{summary['camera_motion_px']} px (true {pan * (args.frames - 1):.1f}), "
              f"clean_plate={summary['clean_plate']}")


if __name__ == "__main__":
    main()
