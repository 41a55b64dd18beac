"""pose_animate.renderers.render: frame-by-frame rendering of driving keypoints onto a trained
target, through the family's inference step rebuilt from the model file alone."""

import json

import av
import numpy as np
import pytest

from pose_animate.core.body import N_POINTS
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_fps
from pose_animate.renderers.engine import train
from pose_animate.renderers.family import Driving
from pose_animate.renderers.inference import load_model
from pose_animate.renderers.posemap import tensor_layout_to_image
from pose_animate.renderers.qa import render_stills
from pose_animate.renderers.render import fill_missing, render_driving
from stick_figure import make_subject_folder, stick_pose


def train_cfg(**overrides) -> dict:
    return settings("families.edn", {"size": 16, "steps": 2, "batch_size": 1, "workers": 0,
                                     "use_background": True, "device": "cpu", **overrides})


def render(model, driving, tmp_path, **render_settings):
    return render_driving(model, driving / "openpose_json", driving / "frames",
                          tmp_path / "frames", tmp_path / "iuv", tmp_path / "video.mp4",
                          tmp_path / "compare.mp4", settings("render", **render_settings),
                          fps=10, device="cpu")


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    target = make_subject_folder(root / "target", n_frames=6, size=32)
    train("edn", [target], root / "model.pt", root / "run", train_cfg())
    return root / "model.pt"


def test_missing_poses_are_held_or_blank():
    empty = np.zeros((N_POINTS, 3), np.float32)
    a, b = stick_pose(0, 4, 32), stick_pose(1, 4, 32)
    seq = np.stack([empty, a, empty, b, empty])
    held = fill_missing(seq, "hold")
    assert [p is a or np.array_equal(p, a) for p in held] == [True, True, True, False, False]
    assert np.array_equal(held[4], b)
    assert [p is None for p in fill_missing(seq, "blank")] == [True, False, True, False, True]
    assert fill_missing(np.stack([empty, empty]), "hold") == [None, None]


def _frame_count(path) -> tuple[int, int, int]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return len(frames), frames[0].width, frames[0].height


def test_render_writes_video_and_comparison(model, tmp_path):
    driving = make_subject_folder(tmp_path / "driving", n_frames=5, size=40, blank_frames=(0, 3))
    rendering = render(model, driving, tmp_path, stills=3)
    record = rendering.record
    assert record["frames"] == 5 and record["frames_without_person"] == 2
    assert record["family"] == "edn"
    assert _frame_count(tmp_path / "video.mp4") == (5, 16, 16)
    # driving frame (scaled to 16 rows) | skeleton 16x16 | result 16x16
    assert _frame_count(tmp_path / "compare.mp4") == (5, 48, 16)
    assert [t for t, _ in rendering.stills] == [0, 2, 4]
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [
        f"{t:06d}.png" for t in range(5)]
    assert list((tmp_path / "iuv").iterdir()) == []  # edn predicts no IUV
    assert render_stills(rendering.stills).ndim == 3


def test_blank_frames_show_the_background_and_restart_the_chain(model):
    _, animator = load_model(model, "cpu")
    assert np.array_equal(animator.blank(), tensor_layout_to_image(animator.background))
    first = animator.frame(Driving(stick_pose(0, 6, 32)))
    animator.frame(Driving(stick_pose(1, 6, 32)))
    animator.reset()
    assert np.array_equal(animator.frame(Driving(stick_pose(0, 6, 32))), first)


def test_render_refuses_mismatched_inputs(model, tmp_path):
    driving = make_subject_folder(tmp_path / "driving", n_frames=4, size=32)
    (driving / "frames" / "000003.png").unlink()
    with pytest.raises(PoseAnimateError, match="4 normalized keypoint files for 3 driving"):
        render(model, driving, tmp_path)
    assert not (tmp_path / "video.mp4").exists()


def test_iuv_model_cannot_render_a_driving_motion(tmp_path):
    target = make_subject_folder(tmp_path / "target", n_frames=4, size=32)
    train("edn", [target], tmp_path / "model.pt", tmp_path / "run",
          train_cfg(steps=1, use_iuv=True))
    _, animator = load_model(tmp_path / "model.pt", "cpu")
    with pytest.raises(PoseAnimateError, match="use_iuv: false"):
        animator.frame(Driving(stick_pose(0, 4, 32)))


def test_a_model_file_of_another_family_or_format_is_refused(model, tmp_path):
    import torch

    state = torch.load(model, weights_only=False)
    torch.save({**state, "family": "gfla"}, tmp_path / "other.pt")
    with pytest.raises(PoseAnimateError, match="'gfla' family where a 'edn' model"):
        load_model(tmp_path / "other.pt", "cpu", family="edn")
    torch.save({**state, "format": 1}, tmp_path / "old.pt")
    with pytest.raises(PoseAnimateError, match="before renderer families.*train again"):
        load_model(tmp_path / "old.pt", "cpu")


def test_driving_fps_comes_from_the_frames_record(tmp_path):
    (tmp_path / "frames.json").write_text(json.dumps({"fps": 24.0, "frames": 10}))
    assert read_fps(tmp_path / "frames.json") == 24.0
    (tmp_path / "meta.json").write_text(json.dumps({"frames": {"fps": 12.5}}))
    assert read_fps(tmp_path / "meta.json") == 12.5
    (tmp_path / "none.json").write_text("{}")
    with pytest.raises(PoseAnimateError, match="frame rate"):
        read_fps(tmp_path / "none.json")
