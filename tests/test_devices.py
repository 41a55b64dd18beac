"""pose_animate.devices: distinct GPUs per concurrent job, from lock files, on fake device
lists."""

import os
import subprocess
import sys
import time

import pytest

from pose_animate.core.devices import allocate_gpu, visible_gpus
from pose_animate.core.errors import PoseAnimateError


def test_concurrent_jobs_get_distinct_devices(tmp_path):
    env = {}
    with allocate_gpu(["0", "1"], tmp_path, environ=env) as first:
        assert env["CUDA_VISIBLE_DEVICES"] == first
        with allocate_gpu(["0", "1"], tmp_path, environ=dict(env)) as second:
            assert {first, second} == {"0", "1"}
            with pytest.raises(PoseAnimateError, match="not free at once.*--resources gpu"):
                with allocate_gpu(["0", "1"], tmp_path, wait_s=0, environ={}):
                    pass
    assert "CUDA_VISIBLE_DEVICES" not in env  # restored
    with allocate_gpu(["0", "1"], tmp_path, environ={}) as again:
        assert again == "0"  # released locks are free again


def test_a_job_needing_n_gets_n_distinct_devices(tmp_path):
    devices = ["0", "1", "2", "3"]
    with allocate_gpu(devices, tmp_path, environ={}, count=2) as first:
        with allocate_gpu(devices, tmp_path, environ={}, count=2) as second:
            assert first == "0,1" and second == "2,3"
            env = {}
            with pytest.raises(PoseAnimateError, match="2 of the GPUs"):
                with allocate_gpu(devices, tmp_path, wait_s=0, environ=env, count=2):
                    pass
            assert env == {}
    # three busy, one free: a two-GPU job waits and holds nothing meanwhile
    with allocate_gpu(devices, tmp_path, environ={}, count=3) as three:
        assert three == "0,1,2"
        with pytest.raises(PoseAnimateError):
            with allocate_gpu(devices, tmp_path, wait_s=0, environ={}, count=2):
                pass
        with allocate_gpu(devices, tmp_path, environ={}, count=1) as last:
            assert last == "3"  # the waiting job did not keep it


def test_more_gpus_than_the_machine_has_is_an_error_at_once(tmp_path):
    with pytest.raises(PoseAnimateError, match="needs 3 GPUs and this machine shows 2"):
        with allocate_gpu(["0", "1"], tmp_path, environ={}, count=3, wait_s=3600):
            pass


def test_another_process_holding_a_device_is_respected(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from pose_animate.core.devices import allocate_gpu\n"
         f"with allocate_gpu(['0', '1'], {str(tmp_path)!r}, environ={{}}) as d:\n"
         "    print(d, flush=True)\n"
         "    time.sleep(30)\n"],
        stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    try:
        held = holder.stdout.readline().strip()
        assert held == "0"
        with allocate_gpu(["0", "1"], tmp_path, environ={}) as mine:
            assert mine == "1"
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    with allocate_gpu(["0"], tmp_path, wait_s=5, poll_s=0.1, environ={}) as freed:
        assert freed == "0"  # a killed job's lock goes with it


def test_waits_for_a_device_to_free_up(tmp_path):
    outer = allocate_gpu(["7"], tmp_path, environ={})
    outer.__enter__()
    start = time.monotonic()
    with pytest.raises(PoseAnimateError):
        with allocate_gpu(["7"], tmp_path, wait_s=0.3, poll_s=0.1, environ={}):
            pass
    assert time.monotonic() - start >= 0.3
    outer.__exit__(None, None, None)


def test_visible_devices_and_cpu_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 3")
    assert visible_gpus() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []
    env = {"OTHER": "x"}
    with allocate_gpu([], tmp_path, environ=env) as device:
        assert device is None and env == {"OTHER": "x"}
