"""Inputs of the import-only test config (.test/config/import.yaml): two generated figures with
their exact keypoints written as another tool would, an OpenPose JSON folder (BODY_25, files
numbered from 1 as OpenPose names a folder of images) and an AlphaPose results file (COCO-17).

    python .test/make_import_inputs.py .test
"""

import json
import sys
from pathlib import Path

from pose_animate.core.formats import keypoints_name, openpose_dict, read_openpose
from pose_animate.synth import write_demo

# COCO-17 order in BODY_25 indices: nose, eyes, ears, shoulders, elbows, wrists, hips, knees,
# ankles (left before right, as COCO lists them).
COCO_FROM_BODY25 = [0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11]


def main(root: Path) -> None:
    inputs = root / "inputs"
    for name, seed, style in (("walker", 3, "groove"), ("dancer", 4, "wave")):
        write_demo(inputs / name, seed=seed, n_frames=16, size=128, fps=12, style=style)
    truth = inputs / "walker" / "truth" / "keypoints"
    openpose = inputs / "walker_openpose"
    openpose.mkdir(exist_ok=True)
    for t, path in enumerate(sorted(truth.glob("*_keypoints.json"))):
        people = read_openpose(path)
        (openpose / f"walker_{t + 1:012d}_keypoints.json").write_text(
            json.dumps(openpose_dict(people)))
    entries = []
    for t in range(16):
        people = read_openpose(inputs / "dancer" / "truth" / "keypoints" / keypoints_name(t))
        for person in people:
            points = person[COCO_FROM_BODY25].copy()
            points[:, 2] = 0.9
            entries.append({"image_id": f"{t}.jpg", "category_id": 1, "score": 2.8,
                            "keypoints": [round(float(v), 2) for v in points.reshape(-1)]})
    (inputs / "dancer_alphapose.json").write_text(json.dumps(entries))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent))
