import pytest

from pose_animate.core.atomic import atomic_dir, atomic_file


def test_atomic_dir_appears_only_when_complete(tmp_path):
    out = tmp_path / "frames"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "000000.png").write_text("x")
            raise RuntimeError("interrupted")
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "000000.png").write_text("x")
    assert (out / "000000.png").read_text() == "x"


def test_atomic_dir_replaces_a_previous_output_whole(tmp_path):
    out = tmp_path / "frames"
    out.mkdir()
    (out / "stale.png").write_text("old")
    with atomic_dir(out) as tmp:
        (tmp / "new.png").write_text("new")
    assert [p.name for p in out.iterdir()] == ["new.png"]
    assert [p.name for p in tmp_path.iterdir()] == ["frames"]


def test_atomic_file_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "meta.json"
    with pytest.raises(ValueError):
        with atomic_file(out) as tmp:
            tmp.write_text("{")
            raise ValueError
    assert list(tmp_path.iterdir()) == []


def test_outputs_get_the_usual_permissions_not_mkdtemps_private_ones(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "d") as tmp:
            pass
        with atomic_file(tmp_path / "f.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "f.json").stat().st_mode) == 0o644
