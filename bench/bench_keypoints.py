"""Keypoints stage throughput vs a bare mediapipe loop on the same frames, in the same run.

    .venv/bin/python bench/bench_keypoints.py [--video ../shared/realdata/videos/musepose_dance.mp4]
                                              [--frames 96] [--size 512] [--repeats 2]

The frames are extracted once by the frames stage (person crop, `--size` px squares). Then,
for pose only and for holistic (face + hands), each timed end to end including the model's
construction:
- bare: `Pose(static_image_mode=False)` (or `Holistic(refine_face_landmarks=True)`, as the
  backend runs it) + `cv2.imread` + `process` over the frames, nothing else;
- ours: `detect_folder`, i.e. reading, the backend, mapping to OpenPose, the subject track and
  the JSON folder written atomically.
Runs alternate (bare, ours, bare, ours, ...) and the best of `--repeats` counts, so a busy
machine penalises both alike; the CPU-time ratio (this process's CPU seconds) is printed too,
as it is steadier than wall time when other jobs share the cores. The ratio (ours / bare throughput; goal >= 0.85) is printed last.
With --synth N, also the joint error against the demo generator's exact keypoints (N frames
of seeds 1 and 2, the demo subjects' seeds). With --pck, also PCK@0.2 (torso-normalised) of the body joints against the hand-labelled
Human3.6M and COCO people in ../shared/realdata/keypoints_gt.
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
from pose_animate.core.body import J, body_height_px, empty_person  # noqa: E402
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.core.formats import list_frames, read_openpose_folder  # noqa: E402
from pose_animate.densepose.h36m import H36M_TO_BODY25  # noqa: E402
from pose_animate.frames.extract import extract_frames  # noqa: E402
from pose_animate.keypoints.detect import detect_folder  # noqa: E402
from pose_animate.keypoints.mapping import coco17_to_body25  # noqa: E402
from pose_animate.keypoints.mediapipe_backend import MediapipeBackend  # noqa: E402
from pose_animate.keypoints.track import Box  # noqa: E402

REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"


def bare_loop(paths, holistic: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of the bare loop."""
    import mediapipe as mp

    start, cpu = time.perf_counter(), time.process_time()
    if holistic:
        solution = mp.solutions.holistic.Holistic(static_image_mode=False, model_complexity=1,
                                                  refine_face_landmarks=True)
    else:
        solution = mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1)
    with solution:
        for p in paths:
            solution.process(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB))
    return time.perf_counter() - start, time.process_time() - cpu


def our_stage(frames_dir, out_dir, holistic: bool) -> tuple[float, float, dict]:
    """(wall seconds, CPU seconds, record) of the keypoints stage."""
    cfg = settings("keypoints", backend="mediapipe", face_hands=holistic, model_complexity=1,
                   min_confidence=0.5)
    start, cpu = time.perf_counter(), time.process_time()
    record = detect_folder(frames_dir, out_dir, cfg)
    return time.perf_counter() - start, time.process_time() - cpu, record


# H36M_TO_BODY25 (densepose.h36m) reads joints 1-3 as the RIGHT leg, as in Human3.6M itself:
# the file's category names say "left", but its labels (checked against the images: the hip on
# the subject's right side) follow Human3.6M. Unlike densepose.h36m.h36m_to_body25 this puts
# no nose and gives every mapped joint confidence 1.
def h36m_to_body25(points) -> np.ndarray:
    person = empty_person()
    for name, k in H36M_TO_BODY25.items():
        person[J[name]] = points[k, :2].tolist() + [1.0]
    return person


def pck(dataset: str, threshold: float = 0.2) -> tuple[float, int, int]:
    """PCK of the pose-only backend against hand labels: a joint is correct within `threshold`
    x the labelled torso (neck to mid-hip). Each labelled person (torso and >= 8 joints seen)
    is detected in a crop around its labelled box, as the tracker's ROI re-detection does.
    Returns (PCK, joints, people)."""
    folder = REALDATA / "keypoints_gt" / dataset
    data = json.loads((folder / ("h36m_coco.json" if dataset == "h36m" else "test_coco.json"))
                      .read_text())
    images = {im["id"]: next(folder.rglob(im["file_name"])) for im in data["images"]}
    names = ["Nose", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist", "LHip",
             "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle"]
    hits = total = people = 0
    for ann in data["annotations"]:
        points = np.asarray(ann["keypoints"], np.float32).reshape(17, 3)
        truth = h36m_to_body25(points) if dataset == "h36m" else coco17_to_body25(points)
        labelled = [n for n in names if truth[J[n], 2] > 0]
        torso = np.hypot(*(truth[J["Neck"], :2] - truth[J["MidHip"], :2]))
        if len(labelled) < 8 or truth[J["Neck"], 2] <= 0 or truth[J["MidHip"], 2] <= 0:
            continue
        x, y, w, h = ann["bbox"]
        with MediapipeBackend(face_hands=False) as backend:
            found = backend.detect_roi(cv2.imread(str(images[ann["image_id"]])),
                                       Box(x + w / 2, y + h / 2, max(w, h)), margin=0.25)
        people += 1
        for name in labelled:
            total += 1
            if found is not None and found[J[name], 2] > 0:
                hits += np.hypot(*(found[J[name], :2] - truth[J[name], :2])) <= threshold * torso
    return hits / max(total, 1), total, people


def synth_error(seed: int, n_frames: int, folder: Path) -> tuple[int, float, float]:
    """Detection on the demo generator's exact frames (pose_animate.synth, default size):
    (frames with the person, median and 90th-percentile joint error / figure height)."""
    from pose_animate.synth import render_sequence

    (folder / "frames").mkdir(parents=True)
    truth = []
    for t, frame in enumerate(render_sequence(seed=seed, n_frames=n_frames)):
        cv2.imwrite(str(folder / "frames" / f"{t:06d}.png"), frame.image)
        truth.append(frame.keypoints)
    _, _, record = our_stage(folder / "frames", folder / "raw", holistic=False)
    errors = []
    for gt, found in zip(truth, read_openpose_folder(folder / "raw", n_frames)):
        both = (gt[:25, 2] > 0) & (found[:25, 2] > 0.5)
        errors += list(np.hypot(*(gt[:25][both, :2] - found[:25][both, :2]).T)
                       / body_height_px(gt))
    return record["frames_with_person"], float(np.median(errors)), float(np.percentile(errors, 90))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(REALDATA / "videos" / "musepose_dance.mp4"))
    parser.add_argument("--frames", type=int, default=96)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--pck", action="store_true")
    parser.add_argument("--synth", type=int, default=0, metavar="N",
                        help="also measure the joint error on N frames of demo seeds 1 and 2")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        extract_frames(args.video, tmp / "frames",
                       settings("frames", size=args.size, max_frames=args.frames))
        paths = list_frames(tmp / "frames")
        n = len(paths)
        print(f"{n} frames of {Path(args.video).name} at {args.size} px")
        ratios = {}
        for mode, holistic in (("pose", False), ("holistic", True)):
            bare, ours, record = [], [], None
            for _ in range(args.repeats):
                bare.append(bare_loop(paths, holistic))
                *seconds, record = our_stage(tmp / "frames", tmp / f"raw_{mode}", holistic)
                ours.append(seconds)
            (b, b_cpu), (o, o_cpu) = min(bare), min(ours)
            ratios[mode] = (b / o, b_cpu / o_cpu)
            print(f"{mode:9s} bare mediapipe: {b:6.2f} s  {n / b:6.1f} frames/s "
                  f"({1000 * b_cpu / n:.0f} ms CPU/frame) | keypoints stage: {o:6.2f} s  "
                  f"{n / o:6.1f} frames/s ({1000 * o_cpu / n:.0f} ms CPU/frame) | person in "
                  f"{record['frames_with_person']}/{n}")
        if args.pck:
            for dataset in ("h36m", "coco"):
                value, joints, people = pck(dataset)
                print(f"PCK@0.2 torso on {dataset}: {value:.3f} ({joints} labelled joints of "
                      f"{people} people, pose backend)")
        for seed in (1, 2) if args.synth else ():
            found, median, p90 = synth_error(seed, args.synth, tmp / f"synth{seed}")
            print(f"synth seed {seed}: person in {found}/{args.synth} frames, joint error "
                  f"median {100 * median:.2f}% p90 {100 * p90:.2f}% of the figure's height")
        for mode, (wall, cpu) in ratios.items():
            print(f"ratio {mode}: {wall:.3f} (keypoints stage throughput / bare mediapipe; "
                  f"by CPU time {cpu:.3f})")


if __name__ == "__main__":
    main()
