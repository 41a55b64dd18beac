"""The skeleton backend on real people: the four Human3.6M frames with body-frame IUV maps."""

import cv2
import numpy as np
import pytest

from pose_animate.densepose.h36m import (canonical_joints, h36m_to_body25, region_agreement,
                                         region_map)
from pose_animate.densepose.skeleton import skeleton_iuv


@pytest.fixture(scope="module")
def h36m(realdata):
    root = realdata / "keypoints_gt" / "h36m"
    if not (root / "BF_IUV_gt").is_dir():
        pytest.skip("h36m BF_IUV_gt absent")
    data = np.load(root / "test_h36m_body3d.npz", allow_pickle=True)
    names = [str(n) for n in data["imgname"]]
    cases = []
    for path in sorted((root / "BF_IUV_gt").glob("*.png")):
        k = next(i for i, n in enumerate(names) if path.name.rsplit("_", 2)[0] in n)
        cases.append((cv2.imread(str(path)), data["part"][k]))
    return cases


@pytest.mark.realdata
def test_silhouette_and_coarse_parts_agree_with_real_maps(h36m):
    anchors = canonical_joints([bf for bf, _ in h36m], [kp for _, kp in h36m])
    # the canonical body: raised hands above the head, feet at the bottom, right side low
    assert anchors[13, 1] < anchors[10, 1] < anchors[8, 1] < anchors[0, 1] < anchors[3, 1]
    assert anchors[3, 0] < anchors[6, 0] and anchors[16, 0] < anchors[13, 0]
    ious, agreement = [], []
    for bf, kp in h36m:
        truth = bf[..., 0] > 0
        parts, _, _ = skeleton_iuv(h36m_to_body25(kp), bf.shape[:2])
        ious.append(np.sum((parts > 0) & truth) / np.sum((parts > 0) | truth))
        masked, _, _ = skeleton_iuv(h36m_to_body25(kp), bf.shape[:2], truth.astype(np.uint8))
        agreement.append(region_agreement(masked, region_map(bf, anchors)))
    assert np.mean(ious) > 0.65          # keypoint capsules alone (bench: 0.71)
    assert np.mean(agreement) > 0.68     # coarse parts, front/back merged (bench: 0.74)
