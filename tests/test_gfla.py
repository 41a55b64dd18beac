"""The gfla family (pose_animate/renderers/gfla/): local attention, the flow regularisation and
the sampling-correctness loss on known fields, a tiny preset that learns from a dataset of
people in seconds, its evaluation on a person it never saw against the source-copy and
piecewise-affine baselines, its render from a reference frame, and the inputs it refuses."""

import shutil

import cv2
import numpy as np
import pytest
import torch

from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import frame_name, read_image, write_image, write_openpose
from pose_animate.renderers import evaluate as evaluate_module
from pose_animate.renderers.engine import load_data, train
from pose_animate.renderers.evaluate_dataset import evaluate_dataset
from pose_animate.renderers.families import plan_models
from pose_animate.renderers.baselines import inpainted_plate, piecewise_affine
from pose_animate.renderers.family import Driving
from pose_animate.renderers.gfla import model
from pose_animate.renderers.gfla.train import WindowDataset, colour_patches, correctness
from pose_animate.renderers.inference import load_model
from pose_animate.renderers.posemap import tensor_layout_to_image, to_map
from pose_animate.renderers.render import render_driving
from stick_figure import make_subject_folder, stick_pose


def cfg(**overrides) -> dict:
    return settings("families.gfla", {"size": 64, "steps": 4, "batch_size": 2, "workers": 0,
                                      "checkpoint_every": 2, "log_every": 1, "device": "cpu",
                                      **overrides})


def person_folder(root, k: int, n_frames: int = 12, **kw):
    """A stick-figure subject whose colours are its own (k-th tint of frames and plate)."""
    folder = make_subject_folder(root, n_frames=n_frames, size=64, **kw)
    tint = np.array([1 - 0.15 * (k % 3), 0.7 + 0.1 * (k % 4), 0.6 + 0.2 * (k % 2)])
    for path in [*sorted((folder / "frames").glob("*.png")), folder / "bg.jpg"]:
        write_image(path, np.clip(read_image(path) * tint, 0, 255).astype(np.uint8))
    return folder


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    root = tmp_path_factory.mktemp("gfla")
    return [person_folder(root / f"p{k}", k, n_frames=10 + k) for k in range(4)]


@pytest.fixture(scope="module")
def trained(people, tmp_path_factory):
    root = tmp_path_factory.mktemp("gfla_model")
    record = train("gfla", people[:3], root / "model.pt", root / "run",
                   cfg(steps=40, log_every=10, checkpoint_every=40, batch_size=4),
                   name="sticks")
    return root, record


def test_local_attention_fetches_the_patch_the_flow_points_at():
    """One-hot features (each pixel its own key): with the query equal to the key, attention
    returns the pixel the flow samples; a flow of one pixel to the right fetches the
    neighbour."""
    h = w = 6
    keys = torch.eye(h * w).view(h * w, h, w)[None] * 20
    values = torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w)
    still = model.local_attention(keys, values, keys, torch.zeros(1, 2, h, w), 3)
    assert torch.allclose(still, values, atol=1e-3)
    right = torch.zeros(1, 2, h, w)
    right[:, 0] = 2 / w  # one pixel in grid_sample's normalised x
    shifted_query = torch.roll(keys, -1, dims=3)  # the key of the pixel to the right
    moved = model.local_attention(keys, values, shifted_query, right, 3)
    assert torch.allclose(moved[..., :-1], values[..., 1:], atol=1e-3)


def test_the_flow_regularisation_is_zero_for_an_affine_field_only():
    grid = model.base_grid(16, 16, "cpu").permute(2, 0, 1)[None]
    matrix = torch.tensor([[0.9, 0.2], [-0.1, 1.1]])
    affine = torch.einsum("ij,bjhw->bihw", matrix, grid) + 0.1 - grid
    assert model.affine_residual(affine, 5).item() < 1e-8
    bumpy = torch.zeros(1, 2, 16, 16)
    bumpy[:, :, 8, 8] = 0.2
    assert model.affine_residual(bumpy, 3).item() > 1e-4


def test_correctness_is_zero_where_the_flow_fetches_the_best_match():
    rng = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 32, 32, generator=rng) * 2 - 1
    features = colour_patches(image, 2)
    assert features.shape == (1, 27, 8, 8)
    assert correctness(features, features, torch.zeros(1, 2, 8, 8)).item() < 1e-4
    shifted = torch.roll(features, 2, dims=3)  # the target is the source moved 2 px right
    flow = torch.zeros(1, 2, 8, 8)
    assert correctness(features, shifted, flow).item() > 0.05
    flow[:, 0] = -2 * 2 / 8  # fetch from 2 px to the left
    assert correctness(features, shifted, flow).item() < correctness(
        features, shifted, torch.zeros(1, 2, 8, 8)).item()


def test_windows_skip_frames_without_a_person_and_references_are_fixed(tmp_path):
    folder = make_subject_folder(tmp_path / "gaps", n_frames=10, size=64, blank_frames=(4,))
    datas = load_data("gfla", [folder, folder], cfg(), tmp_path / "cache")
    windows = WindowDataset(datas, frames=2)
    starts = [t for s, t in windows.items if s == 0]
    assert all(not {t - 1, t, t + 1} & {4} for t in starts)  # no window touches frame 4
    assert starts == [1, 2, 6, 7, 8]
    first, again = windows[3], windows[3]
    assert torch.equal(first["ref"], again["ref"])
    assert first["frames"].shape == (2, 3, 64, 64) and first["poses"].shape[1] == 27
    assert first["priors"].shape == (2, 3, 64, 64)


def test_the_prior_is_the_piecewise_affine_warp_over_the_plate_or_the_inpainted_reference(
        tmp_path):
    folder = make_subject_folder(tmp_path / "s", n_frames=8, size=64)
    (data,) = load_data("gfla", [folder], cfg(), tmp_path / "cache")
    windows = WindowDataset([data, data], frames=2)
    plate = tensor_layout_to_image(data.background)
    for i in (0, 3):  # item 3 (one in four) goes over the reference inpainted
        item, (_, t) = windows[i], windows.items[i]
        ref_bgr = tensor_layout_to_image(item["ref"].numpy())
        ref_t = next(r for r in range(data.n) if np.array_equal(data.image_bgr(r), ref_bgr))
        parts = np.rint(data.iuv(ref_t)[0] * 24).astype(np.uint8)
        over = plate if i != 3 else inpainted_plate(ref_bgr, parts)
        wanted = piecewise_affine(ref_bgr, parts, to_map(data.keypoints[ref_t], data.frame_hw,
                                                         data.map_hw),
                                  to_map(data.keypoints[t + 1], data.frame_hw, data.map_hw),
                                  over)
        got = tensor_layout_to_image(item["priors"][1].numpy())
        assert np.abs(got.astype(int) - wanted).max() <= 1


def test_an_untrained_generator_starts_near_its_prior():
    torch.manual_seed(0)
    net = model.GFLA(model.preset("tiny")).eval()
    x = [torch.rand(1, c, 64, 64) * 2 - 1 for c in (3, 27, 3, 27, 27, 3)]
    with torch.no_grad():
        out = net(*x)
    assert out["blend"].shape == (1, 3, 64, 64)
    assert out["blend"][:, 2].mean() > 0.6  # the prior's weight
    assert (out["frame"] - x[5]).abs().mean() < 0.5 * (x[0] - x[5]).abs().mean()


def test_the_tiny_preset_learns_from_a_dataset_of_people(trained):
    root, record = trained
    assert (root / "model.pt").exists()
    assert record["subjects"] == ["p0", "p1", "p2"] and record["training_frames"] == 33
    first, last = record["history"][0], record["history"][-1]
    assert last["G_l1"] < 0.75 * first["G_l1"]
    assert last["G_correct"] > 0 and last["G_reg"] >= 0


def test_evaluation_on_an_unseen_person_has_both_baselines(trained, people, monkeypatch,
                                                           tmp_path):
    root, _ = trained
    test = people[3]
    wanted = {t: stick_pose(t, 13, 64) for t in range(13)}

    class Exact:  # the detector finds the wanted pose: the test is about the bookkeeping
        t = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def detect(self, image):
            Exact.t += 1
            return wanted[1]

    monkeypatch.setattr(evaluate_module, "keypoint_detector",
                        lambda cfg, face_hands=False: Exact())
    evaluation = evaluate_dataset(root / "model.pt", [test], tmp_path / "cache",
                                  settings("keypoints", face_hands=False), device="cpu",
                                  n_shown=2)
    record = evaluation.record
    assert record["scope"] == "dataset" and record["family"] == "gfla"
    assert set(record["baselines"]) == {"source_copy", "piecewise_affine"}
    assert record["heldout"]["subjects"] == {"p3": [1, 12]}
    assert record["subjects"]["p3"]["reference_frame"] == 0
    copy = record["baselines"]["source_copy"]
    assert 0 < copy["l1"] < 1 and record["model"]["l1"] is not None
    assert record["model"]["warping_error"] is None  # the stick folder has no flow
    assert len(evaluation.shown) == 2
    assert {"real", "source_copy", "piecewise_affine", "model"} <= set(evaluation.shown[0])


def test_render_animates_the_reference_frame(trained, people, tmp_path):
    root, _ = trained
    test = people[3]
    keypoints = tmp_path / "driving"
    keypoints.mkdir()
    for t in range(6):
        write_openpose(keypoints / f"{t:06d}_keypoints.json",
                       [] if t == 2 else [stick_pose(t, 6, 64)])
    out = tmp_path / "render"
    rendering = render_driving(root / "model.pt", keypoints, None, out / "frames", out / "iuv",
                               out / "video.mp4", out / "compare.mp4",
                               settings("render", stills=2), fps=12, device="cpu",
                               source=(test / "frames", test / "openpose_json", 0,
                                       test / "densepose", test / "bg.jpg"))
    assert rendering.record["frames"] == 6 and rendering.record["frames_without_person"] == 1
    assert len(list((out / "frames").glob("*.png"))) == 6
    # skeleton | reference | result
    assert rendering.stills[0][1].shape[1] == 3 * 64
    with pytest.raises(PoseAnimateError, match="animates a reference image"):
        render_driving(root / "model.pt", keypoints, None, out / "f2", out / "i2",
                       out / "v2.mp4", out / "c2.mp4", settings("render"), fps=12,
                       device="cpu")


def test_a_source_frame_with_nobody_is_refused(trained, tmp_path):
    root, _ = trained
    blank = make_subject_folder(tmp_path / "blank", n_frames=6, size=64, blank_frames=(2,))
    keypoints = blank / "openpose_json"
    with pytest.raises(PoseAnimateError, match="nobody was found in source frame 2"):
        render_driving(root / "model.pt", keypoints, None, tmp_path / "f", tmp_path / "i",
                       tmp_path / "v.mp4", tmp_path / "c.mp4", settings("render"), fps=12,
                       device="cpu", source=(blank / "frames", keypoints, 2))


def test_the_animator_starts_each_video_from_the_reference(trained, people):
    root, _ = trained
    _, animator = load_model(root / "model.pt", "cpu")
    image = read_image(people[3] / "frames" / frame_name(0))
    animator.set_source(image, stick_pose(0, 13, 64))
    first = animator.frame(Driving(stick_pose(1, 13, 64)))
    animator.frame(Driving(stick_pose(2, 13, 64)))
    animator.reset()
    assert np.array_equal(animator.frame(Driving(stick_pose(1, 13, 64))), first)


def test_subjects_of_other_shapes_are_refused(people, tmp_path):
    wide = tmp_path / "wide"
    shutil.copytree(people[0], wide)
    for path in sorted((wide / "frames").glob("*.png")):
        write_image(path, cv2.resize(read_image(path), (128, 64)))
    with pytest.raises(PoseAnimateError, match="come at 2 sizes"):
        train("gfla", [people[1], wide], tmp_path / "m.pt", tmp_path / "run", cfg())


def test_a_model_of_another_family_is_refused(trained):
    root, _ = trained
    with pytest.raises(PoseAnimateError, match="'gfla' family where a 'edn' model"):
        load_model(root / "model.pt", "cpu", family="edn")


def test_a_longer_run_resumes_from_the_checkpoint(people, tmp_path):
    train("gfla", people[:2], tmp_path / "m.pt", tmp_path / "run", cfg(steps=2))
    record = train("gfla", people[:2], tmp_path / "m.pt", tmp_path / "run", cfg(steps=4))
    assert record["resumed_from_step"] == 2 and record["steps"] == 4


def _plan(datasets, models, renders=()):
    config = {"datasets": datasets, "models": models, "renders": list(renders),
              "families": {name: settings(f"families.{name}")
                           for name in ("edn", "d2g", "pose2img", "gfla")}}
    return plan_models(config, ["a", "b", "c", "d"])


def test_the_plan_refuses_a_dataset_of_one_person_and_unknown_render_datasets():
    with pytest.raises(PoseAnimateError, match="has 1 train subject"):
        _plan({"one": {"train": ["a"], "test": ["b"]}}, [{"family": "gfla", "dataset": "one"}])
    with pytest.raises(PoseAnimateError, match="trains per dataset, not per subject"):
        _plan({}, [{"family": "gfla", "subject": "a"}])
    ok = {"two": {"train": ["a", "b"], "test": ["c"]}}
    plan = _plan(ok, [{"family": "gfla", "dataset": "two"}],
                 [{"family": "gfla", "dataset": "two", "target": "d", "driving": "a",
                   "source_frame": 0}])
    assert plan[0]["train"] == ["a", "b"] and plan[0]["test"] == ["c"]
    with pytest.raises(PoseAnimateError, match="'other' is not one that models: trains"):
        _plan(ok, [{"family": "gfla", "dataset": "two"}],
              [{"family": "gfla", "dataset": "other", "target": "d", "driving": "a"}])


def test_a_test_subject_also_in_train_is_refused():
    from pose_animate.core.config import check_datasets

    with pytest.raises(PoseAnimateError, match="a in both train and test"):
        check_datasets({"datasets": {"x": {"train": ["a", "b"], "test": ["a"]}}}, ["a", "b"])


def test_a_photo_source_is_cropped_detected_or_refused(tmp_path, monkeypatch):
    from pose_animate.renderers import source_image

    photo = tmp_path / "photo.png"
    write_image(photo, read_image(make_subject_folder(tmp_path / "s", n_frames=2, size=64)
                                  / "frames" / frame_name(0)))

    class Finds:
        def __init__(self, person):
            self.person = person

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def detect(self, image):
            return self.person

    frames_cfg = settings("frames", crop="center", size=64)
    monkeypatch.setattr(source_image, "make_backend", lambda cfg: Finds(stick_pose(0, 2, 64)))
    record = source_image.prepare_source_image(photo, tmp_path / "out" / "frames",
                                               tmp_path / "out" / "openpose_json", frames_cfg,
                                               settings("keypoints"))
    assert record["keypoints_found"] > 0
    assert (tmp_path / "out" / "frames" / "000000.png").exists()
    assert (tmp_path / "out" / "openpose_json" / "000000_keypoints.json").exists()
    monkeypatch.setattr(source_image, "make_backend", lambda cfg: Finds(None))
    with pytest.raises(PoseAnimateError, match="finds nobody in the source image"):
        source_image.prepare_source_image(photo, tmp_path / "o2" / "frames",
                                          tmp_path / "o2" / "openpose_json", frames_cfg,
                                          settings("keypoints"))
    assert not (tmp_path / "o2" / "openpose_json").exists()  # nothing that looks complete
    with pytest.raises(PoseAnimateError, match="not an image"):
        source_image.prepare_source_image(tmp_path / "notes.txt", tmp_path / "o3" / "f",
                                          tmp_path / "o3" / "k", frames_cfg,
                                          settings("keypoints"))


def test_photo_renders_are_named_after_the_file_and_only_for_dataset_families(tmp_path):
    photo = tmp_path / "my photo.jpg"
    photo.write_bytes(b"x")
    ok = {"two": {"train": ["a", "b"], "test": ["c"]}}
    render = {"family": "gfla", "dataset": "two", "image": str(photo), "driving": "a",
              "source_frame": 0}
    _plan(ok, [{"family": "gfla", "dataset": "two"}], [render])
    assert render["target"] == "image-my-photo"
    with pytest.raises(PoseAnimateError, match="renders its own subject, not a photo"):
        _plan(ok, [{"family": "edn", "subject": "a"}],
              [{"family": "edn", "image": str(photo), "driving": "b"}])
