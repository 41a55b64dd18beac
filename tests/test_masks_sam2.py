"""The SAM2 masks backend through a stand-in of SAM2's video predictor (the `sam2` package
needs torchvision, which does not install beside this CPU torch): prompting from the subject's
keypoints on key frames, propagation forward then backward, chunking, and the same refinement
as the mediapipe backend; plus the checks that name the keys."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from pose_animate.appearance.masks import compute_masks, iou
from pose_animate.appearance.sam2_masks import (PROMPT_JOINTS, build_predictor, check_sam2,
                                                chunk_probabilities)
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from stick_figure import background, make_subject_folder



class StandInPredictor:
    """SAM2VideoPredictor's methods as the backend calls them. It 'segments' what differs
    from the figure's known background, plus a bystander blob in the corner that the
    refinement must drop, and records the prompts and the order it propagated in."""

    def __init__(self, size):
        self.bg = background(size).astype(int)
        self.prompts, self.order = [], []

    def init_state(self, video_path, offload_video_to_cpu=False):
        frames = sorted(Path(video_path).glob("*.jpg"), key=lambda p: int(p.stem))
        assert [int(p.stem) for p in frames] == list(range(len(frames)))  # SAM2's naming
        return {"frames": [cv2.imread(str(p)) for p in frames], "prompted": []}

    def add_new_points_or_box(self, inference_state, frame_idx, obj_id, points, labels):
        assert obj_id == 1 and points.dtype == np.float32 and (labels == 1).all()
        inference_state["prompted"].append(frame_idx)
        self.prompts.append((frame_idx, points))

    def propagate_in_video(self, inference_state, reverse=False):
        start = min(inference_state["prompted"])
        n = len(inference_state["frames"])
        for idx in (range(start, -1, -1) if reverse else range(start, n)):
            self.order.append((idx, reverse))
            frame = inference_state["frames"][idx].astype(int)
            person = np.abs(frame - self.bg).max(axis=2) > 40
            person[:6, :6] = True  # someone else in the corner
            yield idx, [1], np.where(person, 10.0, -10.0)[None, None].astype(np.float32)

    def reset_state(self, inference_state):
        inference_state.clear()


@pytest.fixture
def subject(tmp_path):
    return make_subject_folder(tmp_path / "alice", n_frames=12, size=64)


def test_sam2_masks_match_the_truth_and_drop_the_bystander(subject, tmp_path):
    cfg = settings("masks", backend="sam2", sam2={"chunk": 5, "key_frames": 2})
    predictor = StandInPredictor(64)
    out = tmp_path / "mask"
    record = compute_masks(subject / "frames", subject / "openpose_json", out, cfg,
                           predictor=predictor)
    assert record["backend"] == "sam2" and record["frames"] == 12
    for t in range(12):
        mask = cv2.imread(str(out / f"{t:06d}.png"), cv2.IMREAD_GRAYSCALE)
        truth = cv2.imread(str(subject / "mask" / f"{t:06d}.png"), cv2.IMREAD_GRAYSCALE)
        assert mask[:6, :6].max() == 0  # not the subject: dropped as mediapipe's would be
        assert iou(mask > 127, truth > 127) > 0.8
    # chunks of 5: prompts at two key frames of each, local frame numbers
    assert [f for f, _ in predictor.prompts] == [0, 4, 0, 4, 0, 1]
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # scratch JPEGs removed


def test_propagation_runs_forward_then_back_to_the_chunk_start():
    people = np.zeros((10, 137, 3), np.float32)
    people[:, PROMPT_JOINTS] = (30, 30, 0.9)
    people[:2, PROMPT_JOINTS, 2] = 0  # the first two frames cannot be prompted
    predictor = StandInPredictor(8)
    predictor.init_state = lambda video_path, offload_video_to_cpu: {
        "frames": [np.zeros((8, 8, 3), np.uint8)] * 10, "prompted": []}
    cfg = settings("masks", backend="sam2", sam2={"key_frames": 2})
    probs = chunk_probabilities(predictor, None, people, 0, 10, cfg)
    assert sorted(probs) == list(range(10))
    assert [f for f, _ in predictor.prompts] == [2, 9]
    assert predictor.order == [(i, False) for i in range(2, 10)] + [(2, True), (1, True),
                                                                      (0, True)]
    assert probs[5].dtype == np.uint8 and probs[5][0, 0] == 255  # the corner blob: p = 1


def test_missing_package_and_weights_name_what_to_set(tmp_path):
    cfg = settings("masks", backend="sam2")
    with pytest.raises(PoseAnimateError, match=r"masks\.sam2\.checkpoint is not set"):
        check_sam2(cfg)
    cfg["sam2"].update(checkpoint=str(tmp_path / "none.pt"), config="sam2.1_hiera_l.yaml")
    with pytest.raises(PoseAnimateError, match="no such file"):
        check_sam2(cfg)
    try:
        import sam2  # noqa: F401
        pytest.skip("sam2 is installed here")
    except ImportError:
        pass
    with pytest.raises(PoseAnimateError, match="sam2 package.*masks.backend: mediapipe"):
        build_predictor(cfg, "cpu")


def test_the_masks_job_of_sam2_holds_a_gpu(tmp_path, dry_run):
    weights = tmp_path / "sam2.pt"
    weights.write_bytes(b"x")
    run = dry_run({"masks": {"backend": "sam2", "sam2": {
        "checkpoint": str(weights), "config": "configs/sam2.1/sam2.1_hiera_l.yaml"}}})
    assert run.returncode == 0, run.stderr[-2000:]
    block = run.stdout[run.stdout.index("rule masks:"):]
    assert "gpu=1" in block[:block.index("\n\n")]
