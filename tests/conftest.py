"""Shared fixtures: a small synthetic clip with exact ground truth, and the real data folder."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parent.parent
REALDATA = REPO.parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """../shared/realdata, or a clean skip when it is absent."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata is absent")
    return REALDATA


@pytest.fixture(scope="session")
def synth_clip(tmp_path_factory):
    """A 24-frame 192x192 demo clip on disk: video.mp4 and truth/ (see pose_animate.synth)."""
    from pose_animate.synth import write_demo

    out = tmp_path_factory.mktemp("synth_clip")
    write_demo(out, seed=0, n_frames=24, size=192, fps=12)
    return SimpleNamespace(root=out, video=out / "video.mp4", truth=out / "truth")


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture
def dry_run(tmp_path):
    """`dry_run({section: values}, *args)`: snakemake -n on a copy of .test/config with those
    config sections updated; returns the CompletedProcess (output in stdout + stderr)."""
    import shutil
    import subprocess

    import yaml

    def run(sections: dict, *args, name="wf"):
        work = tmp_path / name
        shutil.copytree(REPO / ".test" / "config", work / "config")
        config = yaml.safe_load((work / "config" / "config.yaml").read_text())
        for section, values in sections.items():
            config[section] = {**config.get(section, {}), **values}
        (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
        return subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                               str(REPO / "Snakefile"), "-n",
                               *(args or ("--cores", "2", "--resources", "gpu=1"))],
                              cwd=work, capture_output=True, text=True)

    return run
