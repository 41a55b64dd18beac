"""The execution profiles load with their executors and plan the demo (no cluster here: dry runs)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("profile", ["local", "slurm"])
def test_profile_plans_the_demo(tmp_path, profile):
    shutil.copytree(REPO / "config", tmp_path / "config")
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                          "--profile", str(REPO / "profiles" / profile), "-n"],
                         cwd=tmp_path, capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-3000:]
    assert "rule train:" in out and "rule render:" in out
    if profile == "slurm":
        # light stages are batched into group jobs; GPU rules ask SLURM for a GPU
        assert "group job appearance" in out.lower()
        assert "gpu=1, cpus_per_gpu=8" in out  # the train rule's SLURM request
