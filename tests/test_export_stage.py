"""The export stage around the layouts: how files land (links, copies), atomic folders, the
plan's checks of exports: entries, and a dataset folder whose parts disagree."""

import os

import pytest

from export_subject import make_subject, plan
from pose_animate.core.config import settings, validate_config
from pose_animate.core.errors import PoseAnimateError
from pose_animate.export.plan import plan_exports
from pose_animate.export.stage import export


@pytest.fixture
def alice(tmp_path):
    return {"alice": make_subject(tmp_path / "cache", "alice", n=8)}


@pytest.mark.parametrize("how", ["hardlink", "symlink", "copy"])
def test_links_land_as_configured_and_stay_valid(alice, tmp_path, how):
    out = tmp_path / "export" / "d2g" / "alice"
    record = export("d2g", plan("alice", alice, ["alice"]), out,
                    settings("export", link=how, d2g={"load_size": 64}))
    frame = out / "alice" / "000000.png"
    source = tmp_path / "cache" / "subjects" / "alice" / "frames" / "000000.png"
    assert frame.read_bytes() == source.read_bytes()
    if how == "symlink":
        assert frame.is_symlink() and not os.path.isabs(os.readlink(frame))
    else:
        assert not frame.is_symlink()
        assert (frame.stat().st_nlink == 2) == (how == "hardlink")
    # at load_size = the frame size, IUV and flow are linked too; keypoints always written
    assert record["files"]["linked" if how != "copy" else "copied"] == 8 * 3 + 7 * 2 + 2
    assert record["files"]["written"] == 8 + 1  # the keypoints, and train_flags.txt


def test_a_failed_export_leaves_no_folder(alice, tmp_path):
    masks = tmp_path / "cache" / "subjects" / "alice" / "mask"
    (masks / "000007.png").unlink()
    out = tmp_path / "export" / "gfla" / "alice"
    with pytest.raises(PoseAnimateError, match="'mask' holds 7 files for 8 frames"):
        export("gfla", plan("alice", alice, ["alice"]), out, settings("export"))
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_parts_of_another_size_are_refused(alice, tmp_path):
    import cv2
    import numpy as np
    bg = tmp_path / "cache" / "subjects" / "alice" / "bg.jpg"
    cv2.imwrite(str(bg), np.zeros((32, 40, 3), np.uint8))
    with pytest.raises(PoseAnimateError, match="40x32 but the frames are 64x64"):
        export("pose_transfer", plan("alice", alice, ["alice"]), tmp_path / "out",
               settings("export"))


def config(**top):
    cfg = {"subjects": "config/subjects.tsv", "datasets": {"ds": {"train": ["a"], "test": ["b"]}},
           **top}
    validate_config(cfg)
    return cfg


def test_plan_lists_each_export_with_its_subjects_and_parts():
    cfg = config(exports=[{"layout": "gfla", "dataset": "ds"},
                          {"layout": "pose_transfer", "subject": "a", "driving": "b"},
                          {"layout": "animate_anyone", "subject": "b"}])
    plan_ = plan_exports(cfg, ["a", "b"])
    assert [(p["layout"], p["name"], p["train"], p["test"]) for p in plan_] == [
        ("gfla", "ds", ["a"], ["b"]), ("pose_transfer", "a", ["a"], []),
        ("animate_anyone", "b", ["b"], [])]
    assert "keypoints_raw" in plan_[0]["parts"] and plan_[1]["driving"] == "b"


@pytest.mark.parametrize("entry, keypoints, message", [
    ({"layout": "gfla", "subject": "a"}, {}, "exports a dataset"),
    ({"layout": "d2g", "dataset": "ds"}, {}, "exports a subject"),
    ({"layout": "d2g", "subject": "zed"}, {}, "'zed' is not a subject"),
    ({"layout": "mraa", "dataset": "nope"}, {}, "no dataset 'nope'"),
    ({"layout": "d2g", "subject": "a", "driving": "b"}, {}, "pose_transfer layout only"),
    ({"layout": "pose2img", "subject": "a"}, {"face_hands": False}, "keypoints.face_hands"),
])
def test_plan_refuses_bad_entries_naming_them(entry, keypoints, message):
    cfg = config(exports=[entry], keypoints=keypoints)
    with pytest.raises(PoseAnimateError, match=message) as err:
        plan_exports(cfg, ["a", "b"])
    assert "exports[0]" in str(err.value)


def test_the_schema_refuses_an_unknown_layout_or_setting():
    with pytest.raises(PoseAnimateError, match="must be one of"):
        config(exports=[{"layout": "gfla2", "dataset": "ds"}])
    with pytest.raises(PoseAnimateError, match="unknown key 'sise'"):
        config(export={"mraa": {"sise": 256}})
