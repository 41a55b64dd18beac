"""The d2g family (pose_animate/renderers/d2g/): texture sampling in the dataset's atlas
convention, warping, a tiny preset that learns in seconds, its render and evaluation, and the
dataset folders it refuses."""

import json

import av
import cv2
import numpy as np
import pytest
import torch

from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import frame_name, read_iuv, write_flo
from pose_animate.densepose.texture import ATLAS_SHAPE, TILE, tile_origin
from pose_animate.renderers import checkpoint
from pose_animate.renderers.d2g import model
from pose_animate.renderers.d2g.train import true_uv
from pose_animate.renderers.engine import train
from pose_animate.renderers.evaluate import evaluate
from pose_animate.renderers import evaluate as evaluate_module
from pose_animate.renderers.family import Driving
from pose_animate.renderers.inference import load_model
from pose_animate.renderers.render import render_driving
from stick_figure import make_subject_folder, stick_pose


def d2g_cfg(**overrides) -> dict:
    return settings("families.d2g", {"size": 32, "steps": 4, "batch_size": 2, "workers": 0,
                                     "checkpoint_every": 2, "log_every": 1, "static_steps": 2,
                                     "device": "cpu", **overrides})


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    return make_subject_folder(tmp_path_factory.mktemp("d2g") / "stick", n_frames=10, size=48,
                               flow=True)


@pytest.fixture(scope="module")
def trained(subject, tmp_path_factory):
    root = tmp_path_factory.mktemp("d2g_model")
    record = train("d2g", [subject], root / "model.pt", root / "run", d2g_cfg(), name="stick")
    return root, record


def test_texture_is_sampled_at_uv_in_the_atlas_convention():
    """Texel row (1 - v) x (T - 1), column u x (T - 1) of the part's tile: the dataset's
    texture.jpg layout (tile row 199 - round(v 199))."""
    size = 8
    texture = torch.zeros(24, 3, size, size)
    texture[4, 0] = torch.arange(size * size, dtype=torch.float32).reshape(size, size)
    logits = torch.full((1, 25, 1, 3), -30.0)
    logits[:, 5] = 30  # every pixel is part 5 (tile index 4)
    uv = torch.zeros(1, 48, 1, 3)
    uv[0, 8, 0] = torch.tensor([0.0, 1.0, 3 / 7])  # u of part 5
    uv[0, 9, 0] = torch.tensor([1.0, 0.0, 5 / 7])  # v of part 5
    sampled = model.sample_texture(texture, logits, uv)[0, 0, 0]
    rows, cols = [0, 7, 2], [0, 7, 3]  # (1 - v) * 7 and u * 7
    assert sampled.tolist() == pytest.approx([r * size + c for r, c in zip(rows, cols)],
                                             abs=1e-3)


def test_texture_starts_from_the_atlas_tiles():
    atlas = np.zeros(ATLAS_SHAPE + (3,), np.uint8)
    for part in range(1, 25):
        r, c = tile_origin(part)
        atlas[r:r + TILE, c:c + TILE] = (part * 10, 0, 255)
    tiles = model.texture_from_atlas(atlas, 4, 6)
    assert tiles.shape == (24, 6, 4, 4)
    assert torch.allclose(tiles[6, 0], torch.full((4, 4), 70 / 127.5 - 1))  # part 7, B
    assert torch.allclose(tiles[6, 2], torch.ones(4, 4)) and tiles[:, 3:].abs().max() == 0


def test_backwarp_follows_the_flow_back_and_true_uv_fills_the_true_part():
    image = torch.arange(16.0).reshape(1, 1, 4, 4)
    flow = torch.zeros(1, 2, 4, 4)
    flow[:, 0] = -1  # each pixel was one to the left
    moved = model.backwarp(image, flow)
    assert moved[0, 0, :, 1:].tolist() == image[0, 0, :, :-1].tolist()
    parts = torch.tensor([[[0, 3]]])
    values, mask = true_uv(parts, torch.tensor([[[[0.0, 0.25]]], [[[0.0, 0.75]]]]).reshape(1, 2, 1, 2))
    assert mask[0, :, 0, 0].sum() == 0 and mask[0, :, 0, 1].nonzero().flatten().tolist() == [4, 5]
    assert values[0, 4:6, 0, 1].tolist() == [0.25, 0.75]


def test_the_tiny_preset_trains_writes_its_model_and_learns(subject, tmp_path):
    cfg = d2g_cfg(steps=40, log_every=10, checkpoint_every=40, static_steps=10)
    record = train("d2g", [subject], tmp_path / "model.pt", tmp_path / "run", cfg, name="stick")
    first, last = record["history"][0], record["history"][-1]
    for loss, factor in (("G_l2", 0.8), ("G_static", 0.8), ("G_part", 0.9)):
        assert last[loss] < factor * first[loss], (loss, first[loss], last[loss])
    assert record["history"][0]["G_gan"] == 0 and last["G_gan"] > 0  # after the static steps
    assert [title for title, _ in record["loss_panels"]][0] == "reconstruction"
    state = checkpoint.load(tmp_path / "model.pt", "d2g")
    assert state["spec"]["preset"] == "tiny" and set(state["extras"]["parts"]) == {
        "frames", "openpose_json", "mask", "densepose", "flow", "flow_inv", "bg.jpg",
        "texture.jpg"}


def test_the_animator_renders_views_and_a_surface(trained):
    root, _ = trained
    _, animator = load_model(root / "model.pt", "cpu")
    frame = animator.frame(Driving(stick_pose(0, 10, 48)))
    assert frame.shape == (32, 32, 3) and frame.dtype == np.uint8
    second = animator.frame(Driving(stick_pose(1, 10, 48)))  # warps the first: a chain
    assert second.shape == frame.shape
    parts, u, v = animator.iuv()
    assert parts.shape == (32, 32) and parts.max() <= 24 and 0 <= u.min() and v.max() <= 1
    views = animator.views()
    assert list(views) == list(animator.VIEWS)
    assert all(view.shape == (32, 32, 3) for view in views.values())
    assert animator.blank().shape == (32, 32, 3)


def test_render_writes_frames_iuv_and_a_comparison_with_the_views(trained, tmp_path):
    root, _ = trained
    driving = make_subject_folder(tmp_path / "driving", n_frames=4, size=48, blank_frames=(2,))
    rendering = render_driving(root / "model.pt", driving / "openpose_json", driving / "frames",
                               tmp_path / "frames", tmp_path / "iuv", tmp_path / "video.mp4",
                               tmp_path / "compare.mp4", settings("render", missing="blank"),
                               fps=8, device="cpu")
    assert rendering.record["iuv_written"] and rendering.record["family"] == "d2g"
    names = sorted(p.name for p in (tmp_path / "iuv").iterdir())
    assert names == [frame_name(t) for t in range(4)]
    assert read_iuv(tmp_path / "iuv" / frame_name(2))[0].max() == 0  # nobody: background
    with av.open(str(tmp_path / "compare.mp4")) as container:
        first = next(container.decode(video=0))
    # driving | skeleton | predicted IUV | static texture | result, 32 px each
    assert (first.width, first.height) == (5 * 32, 32)


def test_evaluation_scores_the_frames_and_the_predicted_surface(trained, subject,
                                                                monkeypatch):
    root, _ = trained

    class Finds:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def detect(self, image):
            return stick_pose(0, 10, 48)

    monkeypatch.setattr(evaluate_module, "keypoint_detector", lambda cfg: Finds())
    record = evaluate(root / "model.pt", subject, root / "run" / "cache", settings("keypoints"),
                      valid_dir=subject / "flow_valid", device="cpu").record
    assert record["family"] == "d2g"
    assert set(record["model"]) == set(record["baselines"]["nearest_neighbour"])
    assert 0 <= record["surface"]["part_accuracy"] <= 1
    assert record["surface"]["u_mae"] >= 0
    json.dumps(record)


def test_a_dataset_without_what_d2g_reads_names_the_stage(subject, tmp_path):
    import shutil

    for part, needle in (("densepose", "rerun the densepose stage"),
                         ("flow_inv", "rerun the flow stage"),
                         ("texture.jpg", "run the texture stage")):
        folder = tmp_path / part.replace(".", "_")
        shutil.copytree(subject, folder)
        target = folder / part
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        with pytest.raises(PoseAnimateError, match=needle):
            train("d2g", [folder], tmp_path / "m.pt", tmp_path / f"run_{part}", d2g_cfg())


def test_a_texture_or_flow_of_the_wrong_size_is_refused(subject, tmp_path):
    import shutil

    folder = tmp_path / "texture"
    shutil.copytree(subject, folder)
    cv2.imwrite(str(folder / "texture.jpg"), np.zeros((600, 400, 3), np.uint8))
    with pytest.raises(PoseAnimateError, match="texture is 400x600.*1200"):
        train("d2g", [folder], tmp_path / "m.pt", tmp_path / "run1", d2g_cfg())
    folder = tmp_path / "flow"
    shutil.copytree(subject, folder)
    write_flo(folder / "flow_inv" / frame_name(3, ".flo"), np.zeros((24, 24, 2), np.float32))
    with pytest.raises(PoseAnimateError, match="flow is 24x24 but the frames are 48x48"):
        train("d2g", [folder], tmp_path / "m.pt", tmp_path / "run2", d2g_cfg())


def test_a_checkpoint_of_another_family_or_preset_is_not_used(trained, subject, tmp_path):
    import shutil

    root, _ = trained
    with pytest.raises(PoseAnimateError, match="'d2g' family where a 'edn' model"):
        load_model(root / "model.pt", "cpu", family="edn")
    with pytest.raises(PoseAnimateError, match="'d2g' family where a 'edn' model"):
        train("edn", [subject], tmp_path / "e.pt", root / "run",
              settings("families.edn", size=32, steps=6, workers=0, device="cpu"))
    run = tmp_path / "run"
    shutil.copytree(root / "run", run)
    state = checkpoint.load(checkpoint.latest(run / "checkpoints"))
    state["spec"] = {**state["spec"], "preset": "full"}  # as if trained with the full preset
    torch.save(state, checkpoint.latest(run / "checkpoints"))
    record = train("d2g", [subject], tmp_path / "m.pt", run, d2g_cfg(steps=6), name="stick")
    assert record["resumed_from_step"] == 0  # the tiny run does not continue the full one


def test_transg_pretrained_on_several_subjects_starts_a_subjects_run(subject, tmp_path):
    from pose_animate.renderers.d2g.pretrain import pretrain_transg

    other = make_subject_folder(tmp_path / "other", n_frames=8, size=64)  # poses and IUV only
    cfg = d2g_cfg(transg_pretrain={"dataset": "people", "steps": 3})
    record = pretrain_transg([subject, other], tmp_path / "transg.pt", tmp_path / "pre", cfg,
                             name="TransG on people")
    assert record["steps"] == 3 and record["subjects"] == ["stick", "other"]
    assert all(h["G_l2"] == 0 and h["G_uv"] > 0 for h in record["history"])
    pretrained = checkpoint.load(tmp_path / "transg.pt", "d2g")["weights"]
    record = train("d2g", [subject], tmp_path / "m.pt", tmp_path / "run",
                   d2g_cfg(steps=1, lr=1e-12), name="stick", init=tmp_path / "transg.pt")
    assert record["init"] == str(tmp_path / "transg.pt")
    weights = checkpoint.load(tmp_path / "m.pt")["weights"]
    for key in pretrained:
        if key.startswith("trans."):  # TransG came from the pretraining
            assert torch.allclose(weights[key], pretrained[key], atol=1e-6), key


def test_part_cross_entropy_weighs_the_figure_as_much_as_the_background():
    from pose_animate.renderers.d2g.train import balanced_cross_entropy

    parts = torch.zeros(1, 10, 10, dtype=torch.long)
    parts[0, 0, 0] = 3  # a one-pixel hand in a background frame
    logits = torch.zeros(1, 25, 10, 10)
    logits[:, 0] = 20  # everything called background: right 99 times, wrong once
    balanced = balanced_cross_entropy(logits, parts)
    plain = torch.nn.functional.cross_entropy(logits, parts)
    assert balanced > 40 * plain  # the missed hand counts half, not a hundredth
    assert balanced_cross_entropy(logits, torch.zeros_like(parts)) == pytest.approx(0, abs=1e-6)
