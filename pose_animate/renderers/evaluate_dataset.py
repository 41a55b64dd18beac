"""Evaluating a model learnt from a dataset (scope `dataset`) on the dataset's test subjects,
people it never saw.

Each test video is reconstructed from its first frame with a person (the reference) and its
own cleaned keypoints, frame by frame as a render is (each frame made from the one generated
before), and compared with its real frames at the model's size, with the metrics of
renderers.evaluate. The baselines, scored on the same frames:
- `source_copy`: the reference frame, unchanged (what a model that moves nothing scores);
- `piecewise_affine`: the reference's DensePose parts moved by their bones' transforms from
  the reference's keypoints to the frame's, over the subject's background plate
  (renderers.baselines.piecewise_affine).

The record has the shape of a subject's (renderers.evaluate) over all test frames, each frame
weighing the same, with scope "dataset", and adds `subjects`: per test subject its reference
frame and its own model / baselines / real_frames summaries.
"""

import contextlib
from pathlib import Path

from ..core.draw import evenly_spaced
from ..core.errors import PoseAnimateError
from ..core.runlog import log, progress
from .baselines import piecewise_affine
from .data import SubjectData
from .evaluate import BackwardFlows, Evaluation, Streams
from .family import Driving
from .inference import load_model
from .metrics import METRICS, beats, part_keypoint_errors, summary
from .posemap import has_person, tensor_layout_to_image, to_map

PARTS = ("frames", "openpose_json", "mask", "densepose", "bg.jpg")  # what a test subject gives
NAMES = ("model", "source_copy", "piecewise_affine")


def evaluate_dataset(model_path, test_folders, cache_dir, keypoints_settings: dict, *,
                     valid_dirs=None, device: str = "auto", n_shown: int = 4) -> Evaluation:
    """Metrics of the model and its baselines on the test subjects' dataset folders
    `test_folders`; `cache_dir` holds their frame caches (one folder per subject),
    `valid_dirs` the flow stage's validity masks of each (see renderers.evaluate.evaluate)."""
    state, animator = load_model(model_path, device)
    if not getattr(animator, "NEEDS_SOURCE", False):
        raise PoseAnimateError(f"a {state['family']} model is a subject's renderer, not one "
                               "learnt from a dataset.", path=model_path,
                               fix="evaluate it on its subject (renderers.evaluate).")
    extras, spec = state["extras"], state["spec"]
    valid_dirs = valid_dirs or [None] * len(test_folders)
    per_frame = max(1, n_shown // len(test_folders))
    rows = {name: [] for name in (*NAMES, "real")}
    subjects, spans, shown = {}, {}, []
    for folder, valid_dir in zip(map(Path, test_folders), valid_dirs):
        data = SubjectData(folder, PARTS, size=extras["size"], multiple=extras["multiple"],
                           cache_dir=Path(cache_dir) / folder.name)
        if list(data.map_hw) != spec["inputs"]["map_hw"]:
            raise PoseAnimateError(
                f"test subject {folder.name}'s frames are {data.frame_hw[1]}x"
                f"{data.frame_hw[0]}, {data.map_hw[1]}x{data.map_hw[0]} at the model's scale; "
                f"the model makes {spec['inputs']['map_hw'][1]}x{spec['inputs']['map_hw'][0]}.",
                path=folder / "frames", fix="one model makes frames of one shape: use "
                                            "frames.crop: person (square crops of every "
                                            "subject).")
        scored = _score_subject(animator, data, keypoints_settings, valid_dir, per_frame)
        subjects[folder.name] = scored["record"]
        spans[folder.name] = scored["span"]
        for name in rows:
            rows[name] += scored["rows"][name]
        shown += scored["shown"]
    summaries = {name: summary(rows[name]) for name in NAMES}
    model, baselines = summaries.pop("model"), summaries
    real_warp = summary(rows["real"])["warping_error"]
    frames = sum(b - a + 1 for a, b in spans.values())
    record = {
        "family": state["family"], "name": state["name"], "scope": "dataset",
        "model_file": str(model_path), "size": spec["inputs"]["map_hw"],
        "heldout": {"what": "test subjects, never trained on, each video reconstructed from "
                            "its first frame with a person and its own keypoints, each frame "
                            "from the one generated before",
                    "subjects": spans, "frames": frames,
                    "nearest_pose_distance_body_fraction": None},
        "keypoints_compared": "BODY_25 (and face and hands where the keypoint stage finds "
                              "them), detector run on frames scaled to each subject's frame "
                              "size",
        "metrics": METRICS, "model": model, "baselines": baselines,
        "real_frames": {"warping_error": real_warp},
        "beats_baselines": {name: beats(model, b) for name, b in baselines.items()},
        "subjects": subjects,
    }
    for name, b in baselines.items():
        log.info("test subjects (%d frames): model SSIM %.3f L1 %.4f kp %.1f px | %s SSIM %.3f "
                 "L1 %.4f kp %.1f px", frames, model["ssim"], model["l1"], model["keypoint_px"],
                 name, b["ssim"], b["l1"], b["keypoint_px"])
    return Evaluation(record, shown)


def _score_subject(animator, data: SubjectData, keypoints_settings: dict, valid_dir,
                   n_shown: int) -> dict:
    """One test subject: its rows per stream, its summaries, its span and shown frames."""
    name = data.folder.name
    seen = [t for t in range(data.n) if has_person(data.keypoints[t])]
    if len(seen) < 2:
        raise PoseAnimateError(
            f"test subject {name} has {len(seen)} frame(s) with a person; a reconstruction "
            "needs a reference and a frame to make.", path=data.folder / "openpose_json",
            fix="check the subject's video and keypoints (results/qa/<subject>/), or take it "
                "out of the dataset's test list.")
    ref = seen[0]
    targets = list(range(ref + 1, data.n))
    missing = [t for t in targets if not has_person(data.keypoints[t])]
    if missing:
        raise PoseAnimateError(
            f"test subject {name}: frame {missing[0]} has no keypoints ({len(missing)} such "
            "frames).", path=data.folder / "openpose_json",
            fix="rerun the clean stage (it fills gaps), or check the video.")
    map_hw = data.map_hw
    reference = data.image_bgr(ref)
    ref_pose = to_map(data.keypoints[ref], data.frame_hw, map_hw)
    parts = data.part_index(ref)
    plate = tensor_layout_to_image(data.background)
    animator.set_source(reference, ref_pose, parts, plate)  # what the baseline has
    flows = BackwardFlows(data.folder, valid_dir, map_hw)
    with_parts = bool(keypoints_settings["face_hands"]) and any(
        part_keypoint_errors(None, data.keypoints[t])["face_hands_found_fraction"] is not None
        for t in targets)
    shown_at, shown = set(evenly_spaced(len(targets), n_shown)), []
    with contextlib.ExitStack() as stack:
        streams = Streams(NAMES, keypoints_settings, with_parts, data.frame_hw, stack)
        for i, t in enumerate(progress(targets, total=len(targets), desc=f"test {name}")):
            pose = to_map(data.keypoints[t], data.frame_hw, map_hw)
            images = {"model": animator.frame(Driving(pose)), "source_copy": reference,
                      "piecewise_affine": piecewise_affine(reference, parts, ref_pose, pose,
                                                           plate),
                      "real": data.image_bgr(t)}
            streams.add(images, data.keypoints[t], data.mask(t),
                        flows.into(t - 1) if i > 0 else None)
            if i in shown_at:
                shown.append({"frame": f"{name} {t}", "real": images["real"],
                              **{k: images[k] for k in NAMES[1:]}, "model": images["model"]})
    rows = {n: streams.rows(n) for n in (*NAMES, "real")}
    summaries = {n: summary(rows[n]) for n in NAMES}
    record = {"reference_frame": ref, "frames": len(targets), "model": summaries.pop("model"),
              "baselines": summaries,
              "real_frames": {"warping_error": summary(rows["real"])["warping_error"]}}
    return {"rows": rows, "record": record, "span": [targets[0], targets[-1]], "shown": shown}
