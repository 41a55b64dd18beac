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


def _killed_writer(out, kind):
    """A process that starts writing `out` and is killed with SIGKILL halfway."""
    import subprocess
    import sys

    code = (f"import os, signal\nfrom pose_animate.core.atomic import {kind}\n"
            f"with {kind}({str(out)!r}) as tmp:\n"
            + ("    (tmp / 'half.png').write_text('x')\n" if kind == "atomic_dir" else
               "    tmp.write_text('{')\n")
            + "    os.kill(os.getpid(), signal.SIGKILL)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO)
    assert run.returncode == -9


REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", ["atomic_dir", "atomic_file"])
def test_a_rerun_clears_what_a_killed_writer_left(tmp_path, kind):
    out = tmp_path / ("flow" if kind == "atomic_dir" else "bg.jpg")
    _killed_writer(out, kind)
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(f".{out.stem}.tmp-")  # what kill -9 leaves
    (tmp_path / "keep.txt").write_text("user file")
    writer = atomic_dir if kind == "atomic_dir" else atomic_file
    with writer(out) as tmp:
        (tmp / "000000.flo").write_text("x") if kind == "atomic_dir" else tmp.write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "keep.txt"])


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    import os

    from pose_animate.core.atomic import _HOST, clear_leftovers

    mine = tmp_path / f".frames.tmp-{_HOST}-{os.getpid()}-abc"
    mine.mkdir()
    elsewhere = tmp_path / ".frames.tmp-otherhost-123-abc"  # a dead job on another node
    elsewhere.mkdir()
    unrelated = tmp_path / ".framesx.tmp-otherhost-123-abc"
    unrelated.mkdir()
    assert clear_leftovers(tmp_path / "frames") == [elsewhere]
    assert mine.exists() and unrelated.exists()
