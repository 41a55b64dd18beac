#!/usr/bin/env python3
"""Stand-in for OpenPose's openpose.bin: parses its command line as the real binary does (the
flags the pipeline passes), and writes one `<image stem>_keypoints.json` per image of
--image_dir: the subject (a tall figure whose nose is at x = 20 + frame, y = 10) and a
smaller second person. Records its arguments in $STANDIN_ARGS. Fails like the real binary when
the model folder is missing."""

import argparse
import json
import os
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
for flag in ("--image_dir", "--write_json", "--model_folder", "--model_pose", "--net_resolution",
             "--display", "--render_pose", "--num_gpu", "--num_gpu_start", "--number_people_max"):
    parser.add_argument(flag)
parser.add_argument("--face", action="store_true")
parser.add_argument("--hand", action="store_true")
args, unknown = parser.parse_known_args()
Path(os.environ["STANDIN_ARGS"]).write_text(json.dumps(sys.argv[1:]))
if not Path(args.model_folder, "pose", "body_25").is_dir():
    sys.exit(f"Error: could not open {args.model_folder}/pose/body_25/pose_deploy.prototxt")


def person(t, x0, y0, height, face, hands):
    body = [[0.0, 0.0, 0.0] for _ in range(25)]
    # nose, neck, shoulders, hips, ankles of a standing figure `height` tall
    for j, (dx, dy) in {0: (0, 0), 1: (0, 0.15), 2: (-0.1, 0.15), 5: (0.1, 0.15), 8: (0, 0.5),
                        9: (-0.05, 0.5), 12: (0.05, 0.5), 11: (-0.05, 0.95),
                        14: (0.05, 0.95)}.items():
        body[j] = [x0 + t + dx * height, y0 + dy * height, 0.9]
    entry = {"person_id": [-1], "pose_keypoints_2d": sum(body, [])}
    entry["face_keypoints_2d"] = [x0 + t, y0 - 2, 0.8] * 70 if face else []
    for side in ("left", "right"):
        entry[f"hand_{side}_keypoints_2d"] = [x0 + t, y0 + 20, 0.7] * 21 if hands else []
    return entry


Path(args.write_json).mkdir(parents=True, exist_ok=True)
for t, image in enumerate(sorted(Path(args.image_dir).glob("*.png"))):
    people = [person(t, 20, 10, 50, args.face, args.hand)]
    if args.number_people_max != "1":
        people.append(person(t, 50, 30, 20, args.face, args.hand))
    out = Path(args.write_json) / f"{image.stem}_keypoints.json"
    out.write_text(json.dumps({"version": 1.3, "people": people}))
