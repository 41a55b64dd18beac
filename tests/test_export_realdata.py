"""Exports of real material: the Pose2Img seed's own training frame (a 1280 x 720 TV frame and
its real OpenPose (3, 137) array) goes through the pipeline's OpenPose files and comes out of
the pose2img export as the seed's own array; its 122 points as the seed selects them."""

import cv2
import numpy as np
import pytest
import yaml

from pose_animate.core.config import settings
from pose_animate.core.formats import read_openpose, write_image, write_openpose
from pose_animate.core.skeletons import pose137_to_pose122, to_pose137
from pose_animate.export.stage import export


@pytest.fixture
def speaker(realdata, tmp_path):
    folder = tmp_path / "subjects" / "oliver"
    (folder / "frames").mkdir(parents=True)
    (folder / "openpose_json").mkdir()
    image = cv2.imread(str(realdata / "upper_body" / "pose2img_source.jpg"))
    write_image(folder / "frames" / "000000.png", image)
    seed = np.load(realdata / "upper_body" / "pose2img_source_keypoints137.npy")
    write_openpose(folder / "openpose_json" / "000000_keypoints.json", [seed.T])
    return folder, seed, image


def test_the_seeds_own_frame_round_trips_to_its_training_format(speaker, tmp_path):
    folder, seed, image = speaker
    person = read_openpose(folder / "openpose_json" / "000000_keypoints.json")[0]
    assert to_pose137(person) == pytest.approx(seed, abs=1e-3)  # JSON keeps 3 decimals
    out = tmp_path / "export"
    record = export("pose2img", {"name": "oliver", "train": ["oliver"], "test": [],
                                 "subjects": {"oliver": {"folder": str(folder)}}},
                    out, settings("export", pose2img={"crop": 640}))
    exported = np.load(out / "keypoints" / "000000.npy")
    assert exported.shape == (3, 137) and exported == pytest.approx(seed, abs=1e-3)
    cfg = yaml.safe_load((out / "oliver.yaml").read_text())["POSE2IMAGE"]
    # the seed's Oliver config crops 640 x 640 from its 1280 x 720 frames, 40 px from the top
    assert cfg["TRAIN"]["CROP"] == {"W_bias": 320, "H_bias": 40}
    assert (cfg["HYPERPARAM"]["img_H"], cfg["HYPERPARAM"]["img_W"]) == (640, 640)
    assert cfg["HYPERPARAM"]["kp_var_root"][0] == 10  # its own sigmas at its own crop size
    assert np.ravel(cfg["INFER"]["root_node"]) == pytest.approx(seed[:2, 1], abs=1e-3)
    jpg = cv2.imread(str(out / "imgs" / "000000.jpg"))
    assert jpg.shape == image.shape and np.abs(jpg.astype(int) - image).mean() < 3
    assert record["warnings"]  # one frame leaves nothing for training: said


def test_122_points_as_the_seed_selects_them(realdata):
    seed = np.load(realdata / "upper_body" / "pose2img_source_keypoints137.npy")
    # the seed's pose137_to_pose122 (util.py): body 0-7, eyes 15-16, face and hands, x and y
    expected = np.concatenate([seed[:2, 0:8], seed[:2, 15:17], seed[:2, 25:]], axis=1)
    assert np.array_equal(pose137_to_pose122(seed)[:2], expected)
