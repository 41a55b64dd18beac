"""The densepose stage on a folder: backends, masks, records, errors, atomic output."""

import numpy as np
import pytest

from pose_animate.core.config import settings
from pose_animate.densepose.metrics import iuv_agreement
from pose_animate.densepose.stage import densepose_iuv
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import frame_name, read_iuv, write_image, write_iuv, write_openpose


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    """A 4-frame demo subject folder: frames, keypoints, masks, and the exact IUV."""
    from pose_animate.synth import render_sequence

    root = tmp_path_factory.mktemp("dp_subject")
    truth = []
    for f in render_sequence(seed=7, n_frames=4, size=128):
        write_image(root / "frames" / frame_name(f.index), f.image)
        write_openpose(root / "openpose_json" / f"{f.index:06d}_keypoints.json", [f.keypoints])
        write_image(root / "mask" / frame_name(f.index), f.mask)
        write_iuv(root / "truth" / frame_name(f.index), *f.iuv)
        truth.append(f.iuv)
    return root, truth


def test_skeleton_backend_with_masks(subject, tmp_path):
    root, truth = subject
    record = densepose_iuv(root / "frames", root / "openpose_json", tmp_path / "densepose",
                           settings("densepose"), masks=root / "mask")
    files = sorted((tmp_path / "densepose").iterdir())
    assert [f.name for f in files] == [frame_name(i) for i in range(4)]
    assert record["backend"] == "skeleton" and record["silhouette"] == "masks"
    assert record["frames"] == 4 and record["frames_without_person"] == 0
    accuracy = [iuv_agreement(read_iuv(f), t)["part_accuracy"] for f, t in zip(files, truth)]
    assert np.mean(accuracy) > 0.85


def test_missing_mask_names_subject_and_leaves_no_output(subject, tmp_path):
    root, _ = subject
    with pytest.raises(PoseAnimateError, match="no mask for frame 0"):
        densepose_iuv(root / "frames", root / "openpose_json", tmp_path / "densepose",
                      settings("densepose"), masks=tmp_path / "nowhere")
    assert not (tmp_path / "densepose").exists()
    assert not list(tmp_path.iterdir())


def test_import_backend_copies_a_validated_folder(subject, tmp_path):
    root, truth = subject
    imports = settings("densepose", backend="import")
    record = densepose_iuv(root / "frames", root / "openpose_json", tmp_path / "out", imports,
                           source=root / "truth")
    assert record["backend"] == "import" and record["frames_without_person"] == 0
    parts, _, _ = read_iuv(tmp_path / "out" / frame_name(2))
    assert (parts == truth[2][0]).all()
    with pytest.raises(PoseAnimateError, match="import path does not exist"):
        densepose_iuv(root / "frames", root / "openpose_json", tmp_path / "out2", imports,
                      source=tmp_path / "missing.pkl")


def test_detectron2_backend_explains_what_is_missing(subject, tmp_path):
    root, _ = subject
    with pytest.raises(PoseAnimateError, match="detectron2|DensePose"):
        densepose_iuv(root / "frames", root / "openpose_json", tmp_path / "out",
                      settings("densepose", backend="detectron2", detectron2_config=None))
