#!/usr/bin/env python3
"""Stand-in for AlphaPose's scripts/demo_inference.py: its command line, and the COCO-style
alphapose-results.json it writes into --outdir (COCO-17 people, image_id = the file name): the
subject's nose at x = 20 + frame, y = 10. Records its arguments in $STANDIN_ARGS; fails like
the real script when the checkpoint is missing."""

import argparse
import json
import os
import sys
from pathlib import Path

parser = argparse.ArgumentParser()
for flag in ("--cfg", "--checkpoint", "--indir", "--outdir", "--detector", "--gpus"):
    parser.add_argument(flag)
args, unknown = parser.parse_known_args()
Path(os.environ["STANDIN_ARGS"]).write_text(json.dumps(sys.argv[1:]))
if not Path(args.checkpoint).is_file():
    sys.exit(f"FileNotFoundError: {args.checkpoint}")
results = []
for t, image in enumerate(sorted(Path(args.indir).glob("*.png"))):
    points = [[0.0, 0.0, 0.0] for _ in range(17)]
    # nose, shoulders (5, 6), hips (11, 12), ankles (15, 16): a figure 50 px tall
    for j, (dx, dy) in {0: (0, 0), 5: (0.1, 0.15), 6: (-0.1, 0.15), 11: (0.05, 0.5),
                        12: (-0.05, 0.5), 15: (0.05, 0.95), 16: (-0.05, 0.95)}.items():
        points[j] = [20 + t + dx * 50, 10 + dy * 50, 0.9]
    results.append({"image_id": image.name, "category_id": 1, "keypoints": sum(points, []),
                    "score": 2.5, "idx": [0]})
Path(args.outdir).mkdir(parents=True, exist_ok=True)
(Path(args.outdir) / "alphapose-results.json").write_text(json.dumps(results))
