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
        train = out[out.index("rule train:"):].split("\n\n")[0]
        assert "gpu=1" in train and "cpus_per_gpu=8" in train  # the train rule's request


def test_the_slurm_profile_gives_a_multi_gpu_train_job_its_gpus(tmp_path):
    """families.<f>.gpus: 2 -> the train job asks SLURM for 2 GPUs (one task: the job
    starts its two ranks itself, renderers.distributed), render and evaluate for one."""
    import yaml
    shutil.copytree(REPO / "config", tmp_path / "config")
    config = yaml.safe_load((tmp_path / "config" / "config.yaml").read_text())
    config["families"]["edn"]["gpus"] = 2
    (tmp_path / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                          "--profile", str(REPO / "profiles" / "slurm"), "-n"],
                         cwd=tmp_path, capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-3000:]
    train = out[out.index("rule train:"):].split("\n\n")[0]
    assert "gpu=2" in train and "cpus_per_gpu=8" in train, train
    render = out[out.index("rule render:"):].split("\n\n")[0]
    assert "gpu=1" in render, render


def test_kubernetes_profile_plans_the_demo_on_remote_storage(tmp_path):
    """The Kubernetes executor loads and plans every job on default storage (local storage
    stands in for the profile's S3 here: no cluster, no bucket), GPU rules asking for GPUs."""
    shutil.copytree(REPO / "config", tmp_path / "config")
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                          "--profile", str(REPO / "profiles" / "kubernetes"), "-n",
                          "--default-storage-provider", "fs",
                          "--default-storage-prefix", str(tmp_path / "store")],
                         cwd=tmp_path, capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-3000:]
    assert "rule train:" in out and "(in storage)" in out
    train = out[out.index("rule train:"):].split("\n\n")[0]
    assert "gpu=1" in train and "machine_type=gpu" in train
