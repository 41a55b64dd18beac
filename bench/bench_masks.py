"""Person-mask IoU against real and exact ground truth, with and without each refinement.

    .venv/bin/python bench/bench_masks.py [--realdata ../shared/realdata] [--synth-frames 24]

- COCO (keypoints_gt/coco/test_coco.json): every person with >= 5 labelled keypoints; the
  truth is that person's rasterised segmentation polygons; our mask is guided by the same
  person's keypoints (COCO-17 mapped into BODY_25), as the pipeline guides by the tracked skeleton.
- Human3.6M (keypoints_gt/h36m): the 4 frames, truth = BF_IUV_gt blue channel (foreground),
  guidance = h36m_coco.json's keypoints.
- Synthetic demo clip (pose_animate.synth): exact masks and keypoints of every frame.
Each variant switches ONE setting away from the defaults; the time column is ms per image.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.core.body import N_BODY  # noqa: E402
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.keypoints.mapping import coco17_to_body25  # noqa: E402
from pose_animate.appearance.masks import MaskRefiner, iou, refiner_settings  # noqa: E402


def coco_to_body25(kps) -> np.ndarray:
    """A COCO annotation's 17 keypoints as BODY_25 (labelled points get confidence 1)."""
    kps = np.asarray(kps, np.float32).reshape(17, 3).copy()
    kps[:, 2] = kps[:, 2] > 0
    return coco17_to_body25(kps)[:N_BODY]


def coco_cases(root: Path):
    data = json.loads((root / "test_coco.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    for ann in data["annotations"]:
        if ann["num_keypoints"] < 5 or not isinstance(ann["segmentation"], list):
            continue
        im = images[ann["image_id"]]
        truth = np.zeros((im["height"], im["width"]), np.uint8)
        for poly in ann["segmentation"]:
            cv2.fillPoly(truth, [np.asarray(poly, np.float64).reshape(-1, 2).round()
                                 .astype(np.int32)], 1)
        yield (f"coco {im['id']}/{ann['id']}", cv2.imread(str(root / im["file_name"])),
               coco_to_body25(ann["keypoints"]), truth.astype(bool))


def h36m_cases(root: Path):
    data = json.loads((root / "h36m_coco.json").read_text())
    iuv = {p.name.split(".")[0] + "." + p.name.split(".")[1].split("_")[0]: p
           for p in (root / "BF_IUV_gt").glob("*.png")}
    for im, ann in zip(data["images"], data["annotations"]):
        stem = Path(im["file_name"]).stem
        image = cv2.imread(str(next(root.glob(f"*/*/{im['file_name']}"))))
        gt = cv2.imread(str(next((root / "BF_IUV_gt").glob(f"{stem}_*.png"))))
        truth = cv2.resize(gt[..., 0], image.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
        yield f"h36m {stem}", image, coco_to_body25(ann["keypoints"]), truth


def synth_cases(n_frames: int):
    from pose_animate.synth import write_demo
    from pose_animate.core.formats import read_openpose_folder

    out = Path(tempfile.mkdtemp(prefix="bench_masks_"))
    write_demo(out, seed=0, n_frames=n_frames, size=256, fps=12)
    truth = out / "truth"
    people = read_openpose_folder(truth / "keypoints")
    for t in range(n_frames):
        yield (f"synth {t}", cv2.imread(str(truth / "frames" / f"{t:06d}.png")),
               people[t, :N_BODY], cv2.imread(str(truth / "mask" / f"{t:06d}.png"), 0) > 127)


VARIANTS = {
    "defaults": {},
    "no crop to person": {"crop_to_person": False},
    "no keypoint components": {"keypoint_guided": False},
    "guided-filter edges": {"edge_refine": "guided"},
    "grabcut edges": {"edge_refine": "grabcut"},
    "no hole filling": {"max_hole_fraction": 0.0},
    "temporal 0.3": {"temporal_weight": 0.3},
    "model selfie_landscape": {"model": "selfie_landscape"},
    "model pose": {"model": "pose"},
}


def run(cases, section: dict, sequential: bool) -> tuple[list[float], float]:
    scores, seconds = [], 0.0
    refiner = MaskRefiner(**refiner_settings(section))
    for name, image, points, truth in cases:
        if not sequential:
            refiner._previous = None  # still images: no temporal context
        start = time.perf_counter()
        mask = refiner(image, points)
        seconds += time.perf_counter() - start
        scores.append(iou(mask >= 128, truth))
    refiner.close()
    return scores, 1000 * seconds / max(1, len(scores))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdata", default=str(Path(__file__).resolve().parents[2] /
                                                  "shared" / "realdata"))
    parser.add_argument("--synth-frames", type=int, default=24)
    parser.add_argument("--per-image", action="store_true", help="print every image's IoU")
    args = parser.parse_args()
    real = Path(args.realdata) / "keypoints_gt"
    sets = {}
    if real.is_dir():
        sets["COCO"] = (list(coco_cases(real / "coco")), False)
        sets["H36M"] = (list(h36m_cases(real / "h36m")), False)
    try:
        sets["synth"] = (list(synth_cases(args.synth_frames)), True)
    except ImportError:
        print("pose_animate.synth is not available: no synthetic measurement")
    print(f"defaults: {refiner_settings(settings('masks'))}")
    header = f"{'variant':26s}" + "".join(f"{k + ' IoU':>12s}{'ms':>7s}" for k in sets)
    print(header)
    for label, change in VARIANTS.items():
        line = f"{label:26s}"
        for key, (cases, sequential) in sets.items():
            scores, ms = run(cases, settings("masks", **change), sequential)
            line += f"{np.mean(scores):12.3f}{ms:7.0f}"
            if args.per_image and label == "defaults":
                print(f"  {key}: " + " ".join(f"{s:.3f}" for s in scores))
        print(line, flush=True)


if __name__ == "__main__":
    main()
