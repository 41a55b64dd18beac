"""The pose2img family (pose_animate/renderers/pose2img/): the seed's point clusters and limbs in
the pipeline's 137, limb transforms (missing limbs follow their parent), heatmaps, mask priors
and warps in the model's pixels, a tiny preset that learns in seconds, its render, evaluation
with face and hand points, and the inputs it refuses."""

import av
import numpy as np
import pytest
import torch

from pose_animate.core.body import FACE, HAND_LEFT, HAND_RIGHT, J, N_POINTS
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.renderers import checkpoint
from pose_animate.renderers import evaluate as evaluate_module
from pose_animate.renderers.engine import train
from pose_animate.renderers.evaluate import evaluate
from pose_animate.renderers.family import Driving
from pose_animate.renderers.inference import load_model
from pose_animate.renderers.metrics import part_keypoint_errors
from pose_animate.renderers.pose2img import model
from pose_animate.renderers.pose2img.train import PairDataset
from pose_animate.renderers.render import render_driving
from stick_figure import make_subject_folder, stick_pose


def cfg(**overrides) -> dict:
    return settings("families.pose2img", {"size": 64, "steps": 4, "batch_size": 2,
                                          "workers": 0, "checkpoint_every": 2, "log_every": 1,
                                          "device": "cpu", **overrides})


def speaker_pose(rng=None) -> np.ndarray:
    """(137, 3): upper body, face and both hands seen, legs not (a speaker at a desk)."""
    rng = rng or np.random.default_rng(0)
    person = np.zeros((N_POINTS, 3), np.float32)
    for name, xy in {"Nose": (50, 20), "Neck": (50, 32), "RShoulder": (36, 34),
                     "RElbow": (30, 50), "RWrist": (34, 64), "LShoulder": (64, 34),
                     "LElbow": (70, 50), "LWrist": (66, 64), "REye": (47, 18),
                     "LEye": (53, 18)}.items():
        person[J[name]] = (*xy, 0.9)
    person[FACE] = np.c_[rng.uniform(42, 58, (70, 2)), np.full(70, 0.9)]
    person[HAND_LEFT] = np.c_[rng.uniform(62, 72, (21, 2)) + (0, 0), np.full(21, 0.9)]
    person[HAND_RIGHT] = np.c_[rng.uniform(28, 38, (21, 2)), np.full(21, 0.9)]
    return person


def similarity(points: np.ndarray, angle: float, scale: float, shift) -> np.ndarray:
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    out = points.copy()
    out[:, 0] = c * points[:, 0] - s * points[:, 1] + shift[0]
    out[:, 1] = s * points[:, 0] + c * points[:, 1] + shift[1]
    return out


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    return make_subject_folder(tmp_path_factory.mktemp("pose2img") / "stick", n_frames=12,
                               size=64)


@pytest.fixture(scope="module")
def trained(subject, tmp_path_factory):
    root = tmp_path_factory.mktemp("pose2img_model")
    record = train("pose2img", [subject], root / "model.pt", root / "run",
                   cfg(steps=30, log_every=10, checkpoint_every=30), name="stick")
    return root, record


def test_the_seeds_clusters_and_limbs_in_the_pipelines_points():
    assert len(model.CLUSTERS) == 13 and len(model.LIMBS) == 8
    assert model.CLUSTERS[0] == [J["Neck"]] and model.CLUSTERS[6] == [J["LWrist"]]
    assert model.CLUSTERS[7] == list(range(FACE.start, FACE.start + 17))  # the jaw
    assert model.CLUSTERS[11] == list(range(HAND_RIGHT.start, HAND_RIGHT.stop))
    assert model.CLUSTERS[12] == list(range(HAND_LEFT.start, HAND_LEFT.stop))
    assert model.LIMBS[0] == [J["Nose"], J["REye"], J["LEye"]]
    assert model.LIMBS[1] == [J["Neck"], J["RShoulder"], J["LShoulder"]]
    assert model.LIMBS[6] == list(range(HAND_RIGHT.start, HAND_RIGHT.stop))
    # every limb's parent is fitted before it
    order = model.LIMB_ORDER
    assert sorted(order) == list(range(8))
    assert all(p is None or order.index(p) < order.index(i)
               for i, p in enumerate(model.LIMB_PARENT))


def test_limb_transforms_undo_a_known_motion_and_missing_limbs_follow_their_parent():
    source = speaker_pose()
    target = source.copy()
    target[:, :2] = similarity(source[:, :2], 0.3, 1.2, (5, -3))
    ms = model.limb_transforms(source, target)
    pts = np.c_[target[:, :2], np.ones(N_POINTS)]
    for i, limb in enumerate(model.LIMBS):  # each maps target points back onto the source
        np.testing.assert_allclose(pts[limb] @ ms[i].T, source[limb, :2], atol=1e-3)
    target[HAND_LEFT, 2] = 0  # the left hand unseen: it moves with the left forearm
    target[J["LWrist"]] += (4, 0, 0)
    target[[J["Nose"], J["REye"]], 2] = 0  # the head: with the shoulders
    ms = model.limb_transforms(source, target)
    np.testing.assert_array_equal(ms[7], ms[5])
    np.testing.assert_array_equal(ms[0], ms[1])
    nobody = np.zeros_like(source)
    np.testing.assert_array_equal(model.limb_transforms(source, nobody),
                                  np.tile(np.eye(2, 3, dtype=np.float32), (8, 1, 1)))
    collapsed = target.copy()  # a limb squashed to a point is not trusted
    collapsed[model.LIMBS[3], :2] = collapsed[J["RElbow"], :2]
    np.testing.assert_array_equal(model.limb_transforms(source, collapsed)[3],
                                  model.limb_transforms(source, collapsed)[2])


def test_heatmaps_and_priors_in_the_models_pixels():
    person = torch.from_numpy(speaker_pose())[None]
    maps = model.heatmaps(person, (96, 96), size=640)  # the seed's scale: sigma 10 px
    neck = maps[0, 0]
    assert neck[32, 50] == pytest.approx(1.0)
    assert neck[32, 60] == pytest.approx(np.exp(-0.5), rel=1e-5)
    small = model.heatmaps(person, (96, 96), size=64)  # sigmas scaled, at least one pixel
    assert small[0, 0, 32, 51] == pytest.approx(np.exp(-0.5), rel=1e-5)
    priors = model.mask_priors(person, (96, 96), size=640)
    assert priors.shape == (1, 9, 96, 96) and priors.max() <= 1e-6
    head = priors[0, 1].exp()
    assert head[19, 50] > 0.95  # about the mean of the nose and the eyes
    gone = person.clone()
    gone[0, HAND_LEFT, 2] = 0
    assert model.mask_priors(gone, (96, 96), 640)[0, 8].max() < -20  # an empty layer


def test_a_limbs_prior_lies_along_its_first_two_points():
    """The shoulders' prior runs from the neck to the right shoulder (the seed's first two
    points), not along the whole shoulder line; two points in one place give a round prior,
    not one that covers the frame."""
    person = np.zeros((N_POINTS, 3), np.float32)
    for name, xy in {"Neck": (50, 50), "RShoulder": (30, 50), "LShoulder": (70, 50)}.items():
        person[J[name]] = (*xy, 0.9)
    shoulders = model.mask_priors(torch.from_numpy(person)[None], (100, 100), 640)[0, 2].exp()
    # centred on the three points' mean, long along x (length 20: variance 400 / 1.5), 25 px
    # wide across
    assert shoulders[50, 50 + 16] == pytest.approx(np.exp(-16 ** 2 / (2 * 400 / 1.5)), rel=1e-4)
    assert shoulders[50 + 25, 50] == pytest.approx(np.exp(-0.5), rel=1e-4)
    person[J["RShoulder"], :2] = person[J["Neck"], :2]
    person[J["LShoulder"], 2] = 0
    priors = model.mask_priors(torch.from_numpy(person)[None], (100, 100), 640)[0].exp()
    assert priors[2, 0, 0] < 1e-3 and priors[0, 0, 0] > 0.99  # the background keeps the corner


def test_warp_layers_moves_a_layer_by_its_transform():
    img = torch.rand(1, 1, 3, 20, 24)
    shift = torch.tensor([[1.0, 0, -3], [0, 1, 2]])  # target (x, y) samples source (x-3, y+2)
    out = model.warp_layers(img, shift.expand(1, 1, 2, 3))
    torch.testing.assert_close(out[0, 0, :, 0:18, 3:], img[0, 0, :, 2:, :21])
    assert out[0, 0, :, :, :3].abs().max() < 1e-5  # outside the source: zeros


def test_the_tiny_preset_trains_writes_its_model_and_learns(trained):
    root, record = trained
    first, last = record["history"][0], record["history"][-1]
    assert last["G_l1"] < 0.7 * first["G_l1"], (first["G_l1"], last["G_l1"])
    assert last["G_pyramid"] > 0 and last["G_vgg"] == 0  # no VGG weights: the L1 pyramid
    assert last["D_real"] > 0 and last["G_gan"] > 0
    state = checkpoint.load(root / "model.pt", "pose2img")
    assert set(state["extras"]["parts"]) == {"frames", "openpose_json"}
    assert state["extras"]["source_index"] < state["extras"]["training_frames"]
    assert state["extras"]["source_image"].shape == (3, 64, 64)


def test_pairs_use_the_source_frame_and_other_training_frames():
    class Data:
        map_hw, frame_hw = (8, 8), (8, 8)

    pairs = PairDataset(Data(), n_train=5, source=2)
    assert len(pairs) == 2 * PairDataset.ROUNDS * 5
    assert [pairs.pair(i) for i in range(5)] == [(2, t) for t in range(5)]
    assert [pairs.pair(i) for i in range(10, 15)] == [(2, t) for t in range(5)]
    others = [pairs.pair(i) for i in range(5, 10)]
    assert all(s != t and 0 <= s < 5 for s, t in others) and [t for _, t in others] == list(
        range(5))
    sources_of_0 = {pairs.pair(i)[0] for i in range(5, len(pairs), 10)}  # odd rounds
    assert len(sources_of_0) > 1 and 0 not in sources_of_0


def test_the_animator_renders_from_the_source_image(trained):
    root, _ = trained
    state, animator = load_model(root / "model.pt", "cpu")
    frame = animator.frame(Driving(stick_pose(3, 12, 64)))
    assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(animator.frame(Driving(stick_pose(3, 12, 64))), frame)
    assert list(animator.views()) == ["source"] and animator.blank().shape == frame.shape


def test_render_shows_driving_skeleton_source_and_result(trained, tmp_path):
    root, _ = trained
    driving = make_subject_folder(tmp_path / "driving", n_frames=4, size=48, blank_frames=(1,))
    rendering = render_driving(root / "model.pt", driving / "openpose_json", driving / "frames",
                               tmp_path / "frames", tmp_path / "iuv", tmp_path / "video.mp4",
                               tmp_path / "compare.mp4", settings("render"), fps=8,
                               device="cpu")
    assert rendering.record["family"] == "pose2img" and not rendering.record["iuv_written"]
    assert rendering.record["frames_without_person"] == 1
    with av.open(str(tmp_path / "compare.mp4")) as container:
        first = next(container.decode(video=0))
    assert (first.width, first.height) == (4 * 64, 64)  # driving | skeleton | source | result


def test_face_and_hand_keypoint_errors():
    wanted = speaker_pose()
    found = wanted.copy()
    found[FACE, 0] += 3
    found[HAND_RIGHT, 1] += 4
    found[HAND_LEFT, 2] = 0  # the left hand not found
    errors = part_keypoint_errors(found, wanted)
    assert errors["keypoint_face_px"] == pytest.approx(3)
    left = wanted[HAND_LEFT, :2]
    size = np.linalg.norm(left.max(0) - left.min(0))  # what the missed left hand costs
    assert errors["keypoint_hands_px"] == pytest.approx((4 + size) / 2)
    assert errors["face_hands_found_fraction"] == pytest.approx(2 / 3)
    nothing = part_keypoint_errors(None, wanted)
    assert nothing["face_hands_found_fraction"] == 0 and nothing["keypoint_face_px"] > 10
    body_only = wanted.copy()
    body_only[FACE.start:, 2] = 0
    assert part_keypoint_errors(found, body_only) == {
        "keypoint_face_px": None, "keypoint_hands_px": None, "face_hands_found_fraction": None}


def test_evaluation_measures_face_and_hands_when_the_poses_have_them(trained, subject,
                                                                     monkeypatch, tmp_path):
    import shutil

    from pose_animate.core.formats import read_openpose_folder, write_openpose

    root, _ = trained
    folder = tmp_path / "speaker"
    shutil.copytree(subject, folder)
    people = read_openpose_folder(folder / "openpose_json", 12)
    hands = speaker_pose()
    for t, person in enumerate(people):  # the stick figure given the speaker's face and hands
        person[FACE.start:] = hands[FACE.start:]
        write_openpose(folder / "openpose_json" / f"{t:06d}_keypoints.json", [person])

    class Finds:
        def __init__(self, parts):
            self.parts = parts

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def detect(self, image):
            found = people[-1].copy()
            if not self.parts:
                found[FACE.start:] = 0
            return found

    monkeypatch.setattr(evaluate_module, "keypoint_detector",
                        lambda cfg, face_hands=False: Finds(face_hands))
    record = evaluate(root / "model.pt", folder, tmp_path / "cache",
                      settings("keypoints", face_hands=True), device="cpu").record
    assert record["family"] == "pose2img"
    assert record["model"]["face_hands_found_fraction"] == 1.0
    assert record["model"]["keypoint_face_px"] == pytest.approx(0, abs=1e-2)  # JSON rounding
    assert "face and hands" in record["keypoints_compared"]
    body_only = evaluate(root / "model.pt", folder, tmp_path / "cache",
                         settings("keypoints", face_hands=False), device="cpu").record
    assert body_only["model"]["keypoint_face_px"] is None


def test_a_source_frame_held_out_or_empty_is_refused(subject, tmp_path):
    with pytest.raises(PoseAnimateError, match="source_frame 11 is not a training frame"):
        train("pose2img", [subject], tmp_path / "m.pt", tmp_path / "run", cfg(source_frame=11))
    blank = make_subject_folder(tmp_path / "blank", n_frames=12, size=64, blank_frames=(3,))
    with pytest.raises(PoseAnimateError, match="source frame 3 has nobody"):
        train("pose2img", [blank], tmp_path / "m.pt", tmp_path / "run2", cfg(source_frame=3))


def test_a_model_of_another_family_is_refused(trained, tmp_path):
    root, _ = trained
    with pytest.raises(PoseAnimateError, match="'pose2img' family where a 'edn' model"):
        load_model(root / "model.pt", "cpu", family="edn")


def test_a_longer_run_resumes_from_the_checkpoint(subject, tmp_path):
    train("pose2img", [subject], tmp_path / "m.pt", tmp_path / "run", cfg(steps=2))
    record = train("pose2img", [subject], tmp_path / "m.pt", tmp_path / "run", cfg(steps=4))
    assert record["resumed_from_step"] == 2 and record["steps"] == 4


def test_the_seeds_real_frame_gives_layers_where_its_limbs_are(realdata):
    """The seed's real (3, 137) OpenPose frame at the model's size: every cluster has its
    points, each wrist's pixel belongs to its forearm or hand layer and the nose's to the
    head, and a frame of the seed's gesture file gives every limb a finite transform of a
    plausible scale."""
    from pose_animate.keypoints.gestures import read_gestures, read_pose137

    folder = realdata / "upper_body"
    source = read_pose137(folder / "pose2img_source_keypoints137.npy").people[0]
    hw = (72, 128)  # the 1280 x 720 frame at 128 px
    person = model.to_map(source, (720, 1280), hw)
    maps = model.heatmaps(torch.from_numpy(person)[None], hw, size=128)
    assert (maps.flatten(2).amax(2) > 0.5).all()  # all 13 clusters are there
    layers = model.mask_priors(torch.from_numpy(person)[None], hw, size=128)[0].argmax(0)
    at = lambda name: int(layers[int(round(person[J[name], 1])), int(round(person[J[name], 0]))])
    assert at("Nose") == 1  # the head (layer 0 is the background)
    assert at("RWrist") in (4, 7) and at("LWrist") in (6, 8)
    gestures = read_gestures(folder / "pose2img_driving_gestures.npz",
                             neck=source[J["Neck"], :2]).people
    target = model.to_map(gestures[100], (720, 1280), hw)
    ms = model.limb_transforms(person, target)
    assert np.isfinite(ms).all()
    scales = np.hypot(ms[:, 0, 0], ms[:, 1, 0])
    assert ((scales > 0.5) & (scales < 2)).all()
