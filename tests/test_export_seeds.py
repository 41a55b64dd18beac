"""Exports in the research seeds' layouts, each read back the way its loader reads it (paths,
sort order, shapes, joint order, value ranges, the coordinate frame after a resize), written from
the loaders' code: GFLA's data/dance_dataset.py, MRAA's frames_dataset.py, Pose2Img's
dataset.py, POSE_TRANSFER's data/dance_dataset.py, the neural video rendering seed's
data/aligned_dataset.py. A magenta square marks each frame's right wrist: finding it where the
exported keypoints put the wrist proves frames and keypoints share one grid."""

import ast
import glob
import json
import os

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from export_subject import FLOW, NOISE, make_subject, person_at, plan
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_flo, read_openpose_folder, write_openpose_folder
from pose_animate.export.stage import export

N = 20


@pytest.fixture(scope="module")
def subjects(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    made = {name: make_subject(root, name, n=N) for name in ("alice", "bob", "carol")}
    made["wide"] = make_subject(root, "wide", n=N, h=48, w=80, blank=(3,))
    return made


def run(tmp_path, layout, plan_entry, **layout_settings):
    cfg = settings("export", **{layout: layout_settings}) if layout_settings else \
        settings("export")
    out = tmp_path / "export" / layout / plan_entry["name"]
    return out, export(layout, plan_entry, out, cfg)


def marked(img, x, y, r=3) -> bool:
    """Whether the magenta wrist mark is within r pixels of (x, y) in a BGR image."""
    x, y = int(round(x)), int(round(y))
    patch = img[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].astype(int)
    return bool(((patch[..., 0] > 170) & (patch[..., 2] > 170) & (patch[..., 1] < 110)).any())


# ---- GFLA: data/dance_dataset.py ------------------------------------------------------------

GFLA_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".tiff", ".txt", ".json", ".npy")


def gfla_groups(folder):
    """image_folder.make_grouped_dataset: sorted(os.walk), one group per folder with files."""
    assert os.path.isdir(folder)
    groups = []
    for root, _, names in sorted(os.walk(folder)):
        files = [os.path.join(root, f) for f in sorted(names) if f.lower().endswith(GFLA_EXTENSIONS)]
        if files:
            groups.append(files)
    return sorted(groups)


def gfla_pose(path, joints):
    """openpose_utils: people[0].pose_keypoints_2d, confidence dropped, missing = x or y 0."""
    people = json.load(open(path))["people"]
    if not people:
        return None
    values = np.array(people[0]["pose_keypoints_2d"]).reshape(-1, 3)
    assert len(values) == joints
    return values[:, :2]


def test_gfla_reads_frames_noisy_and_clean_skeletons_and_masks(subjects, tmp_path):
    out, record = run(tmp_path, "gfla", plan("dancers", subjects, ["alice", "bob"], ["carol"]))
    for phase, videos in (("train_256", ["alice", "bob"]), ("test_256", ["carol"])):
        frames = gfla_groups(out / phase / "train_A")
        noisy = gfla_groups(out / phase / "train_alphapose")
        clean = gfla_groups(out / phase / "train_video2d")
        masks = gfla_groups(out / phase / "train_C")
        # check_path_valid: as many videos, as many files per video
        for other in (noisy, clean, masks):
            assert [len(g) for g in other] == [len(g) for g in frames] == [N] * len(videos)
        assert [os.path.basename(os.path.dirname(g[0])) for g in frames] == videos
        for video, (f, b_noise, b_clean, c) in enumerate(zip(frames, noisy, clean, masks)):
            for t in (0, 7, N - 1):
                img = Image.open(f[t])
                assert img.mode == "RGB" and img.size == (256, 256)
                bgr = cv2.imread(f[t])
                h, w = 64, 64  # the cache's frames: keypoints come back x 256 / 64
                truth = person_at(t, N, h, w)
                wrist_clean = gfla_pose(b_clean[t], 17)[16]  # H36M right wrist
                wrist_noise = gfla_pose(b_noise[t], 18)[4]   # OpenPose-18 right wrist
                assert wrist_clean == pytest.approx(truth[4, :2] * 4, abs=0.01)
                assert wrist_noise == pytest.approx((truth[4, :2] + [NOISE, 0]) * 4, abs=0.01)
                assert marked(bgr, *wrist_clean, r=6)
                mask = Image.open(c[t])
                # 1-channel, 255 on the person (resized: soft edges, as its own resize makes)
                assert mask.mode == "L" and np.asarray(mask).max() == 255
                assert np.asarray(mask)[int(wrist_clean[1]), int(wrist_clean[0])] > 200
    table = pd.read_csv(out / "test_list.csv")
    row = {k: ast.literal_eval(table[k][0]) for k in ("A_paths", "B_paths_noise", "B_paths_clean")}
    assert len(row["A_paths"]["gen"]) == len(row["B_paths_clean"]["gen"]) == N
    assert len(row["A_paths"]["ref"]) == len(row["B_paths_noise"]["ref"]) == 1
    for paths in row.values():
        assert all(os.path.isfile(p) and os.path.isabs(p) for p in paths["gen"] + paths["ref"])
    assert row["A_paths"]["gen"][0].split("/")[-2] == "carol"
    assert record["videos"] == {"train": ["alice", "bob"], "test": ["carol"]}
    assert record["warnings"] == []


def test_gfla_reference_pool_and_its_warning(tmp_path):
    made = {n: make_subject(tmp_path / "cache", n, n=24, blank=range(14) if n == "late" else ())
            for n in ("late", "b")}
    out, record = run(tmp_path, "gfla", plan("d", made, ["late", "b"], ["b"]), reference_frames=20)
    row = pd.read_csv(out / "test_list.csv")
    assert len(ast.literal_eval(row["A_paths"][0])["ref"]) == 20
    assert len(record["warnings"]) == 1 and "late: 6 of its first 20" in record["warnings"][0]


def test_gfla_refuses_a_video_shorter_than_its_clips(tmp_path):
    short = make_subject(tmp_path / "cache", "short", n=4)
    with pytest.raises(PoseAnimateError, match="clips of 6 frames"):
        run(tmp_path, "gfla", plan("d", {"short": short}, ["short"]))
    assert not (tmp_path / "export" / "gfla" / "d").exists()


# ---- MRAA: frames_dataset.py ---------------------------------------------------------------

def test_mraa_reads_train_and_test_videos_pairs_and_config(subjects, tmp_path):
    out, _ = run(tmp_path, "mraa", plan("dancers", subjects, ["alice", "bob"], ["carol", "wide"]),
                 id_sampling=True)
    params = yaml.safe_load((out / "dataset_params.yaml").read_text())["dataset_params"]
    assert set(params) <= {"root_dir", "frame_shape", "id_sampling", "pairs_list",
                           "augmentation_params", "random_seed"}
    assert params["root_dir"] == str(out.resolve()) and params["frame_shape"] == [256, 256, 3]
    root = params["root_dir"]
    assert os.path.exists(os.path.join(root, "train")) and os.path.exists(os.path.join(root, "test"))
    # id_sampling: ids are the names before '#', each globbing its own video only
    train = os.listdir(os.path.join(root, "train"))
    ids = {name.split("#")[0] for name in train}
    assert ids == {"alice", "bob"}
    for i in ids:
        found = glob.glob(os.path.join(root, "train", i + "*.mp4"))
        assert len(found) == 1 and os.path.isdir(found[0])
    for name in os.listdir(os.path.join(root, "test")):
        frames = sorted(os.listdir(os.path.join(root, "test", name)))  # read_video's order
        assert len(frames) == N and frames[0] == "0000000.png"
        first = cv2.imread(os.path.join(root, "test", name, frames[0]), cv2.IMREAD_UNCHANGED)
        assert first.shape == (256, 256, 3) and first.dtype == np.uint8
    pairs = pd.read_csv(params["pairs_list"])
    assert list(pairs.columns) == ["source", "driving"]
    tests = set(os.listdir(os.path.join(root, "test")))
    assert set(pairs["source"]) <= tests and set(pairs["driving"]) <= tests and len(pairs) == 2


def test_mraa_wide_frames_are_letterboxed_not_stretched(subjects, tmp_path):
    out, _ = run(tmp_path, "mraa", plan("w", subjects, ["wide"]))
    img = cv2.imread(str(out / "train" / "wide" / "0000005.png"))
    truth = person_at(5, N, 48, 80)
    s = 256 / 80  # fitted by the width, centred vertically
    assert marked(img, truth[4, 0] * s, truth[4, 1] * s + (256 - 48 * s) / 2, r=6)
    assert img[:20].max() == 0  # the bars are black


def test_mraa_id_prefixes_are_refused(tmp_path):
    made = {n: make_subject(tmp_path / "cache", n, n=3) for n in ("bob", "bobby")}
    with pytest.raises(PoseAnimateError, match="prefix"):
        run(tmp_path, "mraa", plan("d", made, ["bob", "bobby"]), id_sampling=True)


# ---- Pose2Img: dataset.py with its yacs config ----------------------------------------------

POSE2IMAGE_KEYS = {"TRAIN": {"CACHING", "NUM_EPOCHS", "BATCH_SIZE", "CROP"},
                   "HYPERPARAM": {"kp_var_root", "mask_sigma_perp", "img_H", "img_W", "scale"},
                   "PATH": {"img_base", "kp_base", "img_extension"},
                   "INFER": {"root_node", "ckpt_path", "scale", "src_img_path", "src_kp_path"}}


def test_pose2img_reads_crops_keypoints_and_config(subjects, tmp_path):
    out, record = run(tmp_path, "pose2img", plan("alice", subjects, ["alice"]))
    cfg = yaml.safe_load((out / "alice.yaml").read_text())
    assert list(cfg) == ["POSE2IMAGE"]
    cfg = cfg["POSE2IMAGE"]
    for key, value in cfg.items():  # yacs refuses unknown keys and int/float mismatches
        assert set(value) <= POSE2IMAGE_KEYS[key]
    crop, hyper = cfg["TRAIN"]["CROP"], cfg["HYPERPARAM"]
    assert all(isinstance(crop[k], int) for k in ("W_bias", "H_bias"))
    assert isinstance(hyper["img_H"], int) and isinstance(hyper["scale"], float)
    assert hyper["img_H"] % 32 == 0 and len(hyper["kp_var_root"]) == 13
    assert len(hyper["mask_sigma_perp"]) == 8
    kp_paths = sorted(glob.glob(os.path.join(cfg["PATH"]["kp_base"], "*.npy")))
    assert len(kp_paths) == N
    for t, kp_path in enumerate(kp_paths):
        stem = os.path.splitext(os.path.basename(kp_path))[0]
        img_path = os.path.join(cfg["PATH"]["img_base"], stem + cfg["PATH"]["img_extension"])
        img = cv2.imread(img_path).transpose(2, 0, 1)
        kp = np.load(kp_path)
        assert kp.shape == (3, 137) and np.isfinite(kp).all()
        hb, wb = crop["H_bias"], crop["W_bias"]
        img = img[:, hb:hb + hyper["img_H"], wb:wb + hyper["img_W"]]
        assert img.shape[1:] == (hyper["img_H"], hyper["img_W"])
        xy = kp[:2].T - [wb, hb]
        assert marked(img.transpose(1, 2, 0), *xy[4], r=4)  # JPEG: a little looser
    neck = np.array([person_at(t, N, 64, 64)[1, :2] for t in range(N)]).mean(axis=0)
    assert np.array(cfg["INFER"]["root_node"]).ravel() == pytest.approx(neck, abs=1e-2)
    assert record["warnings"] and "none for training" in record["warnings"][0]


def test_pose2img_with_enough_frames_has_no_warning(tmp_path):
    long = make_subject(tmp_path / "cache", "long", n=80)
    _, record = run(tmp_path, "pose2img", plan("long", {"long": long}, ["long"]),
                    validation=64, image_format="png")
    assert record["warnings"] == [] and record["files"]["linked"] == 80


# ---- POSE_TRANSFER: data/dance_dataset.py ---------------------------------------------------

def test_pose_transfer_reads_images_annotations_background_and_driving(subjects, tmp_path):
    normalized = tmp_path / "normalized"
    normalized.mkdir()
    write_openpose_folder(normalized, read_openpose_folder(f"{subjects['bob']['folder']}/"
                                                           "openpose_json"))
    out, record = run(tmp_path, "pose_transfer",
                      plan("wide", subjects, ["wide"], driving="bob", normalized=str(normalized)))
    data = np.load(out / "annotations" / "train_annotations.npy")
    assert data.shape == (N - 1, 37)  # the frame with nobody is left out, as its script does
    frames = np.array(data[:, 0], dtype=int)
    assert 4 not in frames and frames[0] == 1  # 1-based numbers of the frames kept
    s = 288 / 48
    for row in data:
        img = cv2.imread(str(out / "images" / f"{int(row[0])}.png"))
        assert img.shape == (288, 512, 3)
        joint = row[1:].reshape(18, 2)
        truth = person_at(int(row[0]) - 1, N, 48, 80)
        assert joint[4] == pytest.approx([truth[4, 0] * s + (512 - 80 * s) / 2, truth[4, 1] * s],
                                         abs=0.01)
        assert marked(img, *joint[4], r=6)
    assert cv2.imread(str(out / "train_bg_img.png")).shape == (288, 512, 3)
    norm = np.load(out / "annotations" / "norm_test_annotations.npy")
    assert norm.shape == (N, 18, 2) and norm.min() >= 0
    assert np.load(out / "annotations" / "test_annotations.npy").shape == (N, 37)
    assert record["driving"] == {"subject": "bob", "frames": N}


# ---- neural video rendering seed: data/aligned_dataset.py ----------------------------------

D2G_EXTENSIONS = (".jpg", ".JPG", ".jpeg", ".JPEG", ".png", ".PNG", ".ppm", ".PPM", ".bmp",
                  ".BMP", ".tiff", "flo", "json")


def d2g_listing(folder):
    """image_folder.make_dataset: recursive, by suffix, then sorted."""
    assert os.path.isdir(folder)
    return sorted(os.path.join(root, f) for root, _, names in os.walk(folder, followlinks=True)
                  for f in names if f.endswith(D2G_EXTENSIONS))


def test_d2g_folders_pair_by_sorted_position_at_its_sizes(subjects, tmp_path):
    out, _ = run(tmp_path, "d2g", plan("wide", subjects, ["wide"]))
    poses = d2g_listing(out / "openpose_json")
    frames, masks = d2g_listing(out / "wide"), d2g_listing(out / "mask")
    iuv, flow, flow_inv = (d2g_listing(out / p) for p in ("densepose", "flow", "flow_inv"))
    assert len(poses) == len(frames) == len(masks) == len(iuv) == N
    assert len(flow) == len(flow_inv) == N - 1
    assert all(p.endswith("_IUV.png") for p in iuv)
    for t in (0, 3, 9):
        people = json.load(open(poses[t]))["people"]
        assert len(people) == 1  # one person, also where nobody was seen (frame 3)
        person = people[0]
        assert len(person["pose_keypoints_2d"]) == 75 and len(person["face_keypoints_2d"]) == 210
        assert len(person["hand_left_keypoints_2d"]) == len(person["hand_right_keypoints_2d"]) == 63
        img = cv2.resize(cv2.imread(frames[t]), (1024, 1024))  # its square resize
        wrist = np.array(person["pose_keypoints_2d"]).reshape(25, 3)[4]
        if t == 3:
            assert wrist[2] == 0
        else:
            assert marked(img, wrist[0], wrist[1], r=12)
        part = cv2.imread(iuv[t])
        assert part.shape == (512, 512, 3) and part[..., 0].max() <= 24
    assert read_flo(flow[0]) == pytest.approx(np.broadcast_to(np.float32(FLOW) * [512 / 80, 512 / 48],
                                                              (512, 512, 2)), abs=1e-4)
    assert read_flo(flow_inv[0]) == pytest.approx(np.broadcast_to(
        -np.float32(FLOW) * [512 / 80, 512 / 48], (512, 512, 2)), abs=1e-4)
    assert cv2.imread(str(out / "texture.jpg")).shape == (1200, 800, 3)
    assert (out / "bg.jpg").stat().st_nlink == 2  # hard-linked, not copied
    flags = (out / "train_flags.txt").read_text().split()
    assert flags[flags.index("--loadSize") + 1] == "512"
    assert flags[flags.index("--img_path") + 1] == str(out.resolve() / "wide")
