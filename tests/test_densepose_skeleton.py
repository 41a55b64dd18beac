"""The skeleton IUV backend: parts, facing, charts; measured against the demo's exact IUV."""

import numpy as np
import pytest

from pose_animate.core.body import J, N_POINTS, PART
from pose_animate.densepose.metrics import iuv_agreement
from pose_animate.densepose.skeleton import SkeletonIUV, facing_score, skeleton_iuv

STANDING = {"Nose": (100, 40), "Neck": (100, 65), "RShoulder": (80, 67),
            "LShoulder": (120, 67), "RElbow": (72, 95), "LElbow": (130, 95),
            "RWrist": (68, 120), "LWrist": (140, 118), "MidHip": (100, 120),
            "RHip": (90, 120), "LHip": (110, 120), "RKnee": (88, 155), "LKnee": (114, 155),
            "RAnkle": (88, 188), "LAnkle": (116, 188), "REye": (96, 37), "LEye": (104, 37),
            "REar": (91, 40), "LEar": (109, 40)}


def person(points=STANDING, mirror=False, drop=()):
    """Keypoints of a figure facing the camera; `mirror` turns it around (its right side on
    the image's right, face points gone)."""
    kp = np.zeros((N_POINTS, 3), np.float32)
    for name, (x, y) in points.items():
        if name in drop or (mirror and name in ("Nose", "REye", "LEye")):
            continue
        kp[J[name]] = (200 - x if mirror else x, y, 0.9)
    return kp


def test_front_view_parts_sides_and_charts():
    parts, u, v = skeleton_iuv(person(), (200, 200))
    found = set(np.unique(parts)) - {0}
    assert {PART["torso_front"], PART["head_left"], PART["head_right"],
            PART["right_upper_arm_front"], PART["left_lower_leg_front"],
            PART["right_hand"], PART["left_foot"]} <= found
    assert not found & {PART["torso_back"], PART["right_upper_arm_back"]}
    # facing the camera, the person's right arm and right head half are on the image's left
    assert parts[80, 76] == PART["right_upper_arm_front"]
    assert parts[80, 126] == PART["left_upper_arm_front"]
    assert parts[45, 95] == PART["head_right"] and parts[45, 105] == PART["head_left"]
    # U along the bone: rises from shoulder to elbow; torso U rises upwards
    assert u[72, 78] < u[90, 74]
    assert u[110, 100] < u[75, 100]
    # V across the bone, 0.5 on the axis
    assert abs(v[120, 100 - 0] - 0.5) < 0.05
    assert u.min() >= 0 and u.max() <= 1 and v.min() >= 0 and v.max() <= 1


def test_back_view_uses_back_parts_and_keeps_sides():
    parts, _, _ = skeleton_iuv(person(mirror=True), (200, 200))
    found = set(np.unique(parts)) - {0}
    assert PART["torso_back"] in found and PART["torso_front"] not in found
    # from behind the person's right arm is on the image's right
    assert parts[80, 200 - 76] == PART["right_upper_arm_back"]
    assert parts[80, 200 - 126] == PART["left_upper_arm_back"]


def test_facing_hysteresis_keeps_side_views_stable():
    assert facing_score(person()) > 0.5 and facing_score(person(mirror=True)) < -0.5
    side = dict(STANDING, RShoulder=(99, 67), LShoulder=(101, 67), RHip=(99, 120),
                LHip=(101, 120))
    side_view = person(side, drop=("Nose", "REye", "LEye"))     # profile, face hidden
    conv = SkeletonIUV()
    conv(person(), (200, 200))
    parts, _, _ = conv(side_view, (200, 200))
    assert PART["torso_front"] in parts            # stays front after a front view
    conv(person(mirror=True), (200, 200))
    parts, _, _ = conv(side_view, (200, 200))
    assert PART["torso_back"] in parts             # stays back after a back view


def test_mask_decides_the_foreground_and_nobody_gives_empty():
    mask = np.zeros((200, 200), np.uint8)
    mask[60:130, 85:116] = 255                     # torso-sized blob only
    parts, _, _ = skeleton_iuv(person(), (200, 200), mask)
    assert ((parts > 0) == (mask > 0)).all()
    empty = skeleton_iuv(np.zeros((N_POINTS, 3), np.float32), (200, 200))
    assert not empty[0].any()


def test_without_a_face_the_head_sits_above_the_neck():
    parts, _, _ = skeleton_iuv(person(drop=("Nose", "REye", "LEye", "REar", "LEar")),
                               (200, 200))
    head = np.isin(parts, [PART["head_left"], PART["head_right"]])
    assert head.any() and np.nonzero(head)[0].mean() < 65


@pytest.fixture(scope="module")
def demo_frames():
    from pose_animate.synth import render_sequence

    return list(render_sequence(seed=3, n_frames=6, size=160))


def test_matches_the_demo_figure_exact_iuv(demo_frames):
    conv, conv_nomask = SkeletonIUV(), SkeletonIUV()
    with_mask, without = [], []
    for f in demo_frames:
        with_mask.append(iuv_agreement(conv(f.keypoints, f.mask.shape, f.mask), f.iuv))
        without.append(iuv_agreement(conv_nomask(f.keypoints, f.mask.shape), f.iuv))
    mean = {k: np.mean([r[k] for r in with_mask]) for k in with_mask[0]}
    assert mean["fg_iou"] == 1.0
    assert mean["part_accuracy"] > 0.9
    assert mean["u_mae"] < 0.04 and mean["v_mae"] < 0.08
    assert np.mean([r["fg_iou"] for r in without]) > 0.7


UPPER_BODY = ("MidHip", "RHip", "LHip", "RKnee", "LKnee", "RAnkle", "LAnkle")


def test_a_speaker_seen_from_the_waist_up_gets_a_torso_down_out_of_the_frame():
    """No hip in view: the hips are placed 1.6 shoulder widths below the neck (away from the
    face), so the torso is drawn down to the frame's edge instead of nobody being found."""
    frame = (100, 200)  # cut at y = 100, above the hips (y = 120)
    parts, _, _ = skeleton_iuv(person(drop=UPPER_BODY), frame)
    assert parts[95, 100] == PART["torso_front"]  # the bottom row is torso
    assert {PART["torso_front"], PART["right_upper_arm_front"], PART["head_right"]} <= \
        set(np.unique(parts))
    assert not set(np.unique(parts)) & {PART["right_upper_leg_front"], PART["left_foot"]}
    # An upside-down speaker (face below the shoulders): the torso goes up.
    flipped = {k: (x, 200 - y) for k, (x, y) in STANDING.items()}
    parts, _, _ = skeleton_iuv(person(flipped, drop=UPPER_BODY), (200, 200))
    assert parts[200 - 95, 100] == PART["torso_front"] and parts[170, 100] != PART["torso_front"]


def test_the_real_upper_body_openpose_frame_gets_its_torso(realdata):
    """The (3, 137) OpenPose output of a real TV frame (realdata upper_body): hips unseen."""
    import cv2
    folder = realdata / "upper_body"
    kp = np.load(folder / "pose2img_source_keypoints137.npy").T.astype(np.float32)
    image = cv2.imread(str(folder / "pose2img_source.jpg"))
    assert kp[J["MidHip"], 2] == 0 or kp[J["MidHip"], 1] > image.shape[0] * 0.9
    parts, _, _ = skeleton_iuv(kp, image.shape[:2])
    torso = parts == PART["torso_front"]
    assert torso.sum() > 0.05 * parts.size  # the chest and belly, down to the frame's edge
    assert torso[-1].any()
