"""bench/bench_gpu.py on the CPU: --prepare writes a small dataset folder from a subject's, and
--smoke goes through every section of the GPU run (tiny preset, 64 px, 3 steps), in processes
where mediapipe and snakemake cannot be imported, as on the GPU machine."""

import os
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from pose_animate.core.formats import read_flo, read_openpose_folder
from stick_figure import make_subject_folder

BENCH = os.path.join(os.path.dirname(__file__), "..", "bench", "bench_gpu.py")
# sitecustomize of the bench's processes (children too, through PYTHONPATH): importing either
# package fails as it would on the GPU machine, where neither is installed.
BLOCKER = '''import sys


class _NotOnTheGpuMachine:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("mediapipe", "snakemake"):
            raise ImportError(f"{name} is blocked: the GPU machine has no such package")
        return None


sys.meta_path.insert(0, _NotOnTheGpuMachine())
'''
FAMILY_ROWS = ["baseline: the step on pooled batches", "live engine.batches stream",
               "cudnn.benchmark on", "fused Adam", "losses left on the device", "batch x2",
               "batch x4", "cudnn.benchmark + fused Adam + losses on device",
               "CUDA graph of the whole step", "torch.compile of the networks",
               "render_driving", "Animator.frame", "network only, fp32",
               "network only, bf16 autocast", "engine.train", "render on cpu vs CPU",
               "render under bf16 autocast"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    (site / "sitecustomize.py").write_text(BLOCKER)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, env):
    root = tmp_path_factory.mktemp("bench_gpu")
    source = make_subject_folder(root / "subject", n_frames=10, size=64, flow=True)
    out = root / "prepared"
    done = subprocess.run([sys.executable, BENCH, "--prepare", str(out), "--from", str(source),
                           "--frames", "8", "--size", "48"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return source, out


def table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| family")]


def test_the_blocker_works(env):
    done = subprocess.run([sys.executable, "-c", "import mediapipe"], env=env,
                          capture_output=True, text=True)
    assert done.returncode != 0 and "blocked" in done.stderr


def test_prepare_writes_every_part_resized_alike(prepared):
    source, out = prepared
    frames = sorted((out / "frames").iterdir())
    assert len(frames) == 8 and cv2.imread(str(frames[0])).shape == (48, 48, 3)
    for part in ("flow", "flow_inv"):
        flows = sorted((out / part).iterdir())
        assert len(flows) == 7 and read_flo(flows[0]).shape == (48, 48, 2)
    assert np.allclose(read_flo(out / "flow" / "000000.flo"),
                       cv2.resize(read_flo(source / "flow" / "000000.flo"), (48, 48)) * 0.75,
                       atol=1e-4)
    assert len(list((out / "mask").iterdir())) == len(list((out / "densepose").iterdir())) == 8
    mask = cv2.imread(str(out / "mask" / "000003.png"), cv2.IMREAD_GRAYSCALE)
    assert set(np.unique(mask)) <= {0, 255} and mask.shape == (48, 48)
    assert cv2.imread(str(out / "bg.jpg")).shape == (48, 48, 3)
    assert (out / "texture.jpg").read_bytes() == (source / "texture.jpg").read_bytes()
    kp_src, kp_out = read_openpose_folder(source / "openpose_json")[:8], \
        read_openpose_folder(out / "openpose_json")
    assert np.allclose(kp_out[..., :2], kp_src[..., :2] * 0.75, atol=1e-3)
    assert np.array_equal(kp_out[..., 2], kp_src[..., 2])


def test_smoke_run_goes_through_every_section(prepared, env, tmp_path):
    _, folder = prepared
    table = tmp_path / "table.md"
    done = subprocess.run([sys.executable, BENCH, "--folder", str(folder), "--smoke",
                           "--work", str(tmp_path / "work"), "--out", str(table)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert re.search(r"^\d\d:\d\d:\d\d \+ *\d+s  edn: baseline$", done.stdout, re.M)
    text = table.read_text()
    assert text in done.stdout
    assert "torch " in text.splitlines()[0] and "UTC" in text.splitlines()[0]
    assert "error" not in text, text
    rows = table_rows(text)
    assert any(r[1].startswith("bf16 dense matmul") and r[7] for r in rows)
    for family in ("edn", "d2g"):
        mine = {r[1]: r for r in rows if r[0] == family}
        for what in FAMILY_ROWS:
            assert any(w.startswith(what) for w in mine), (family, what, list(mine))

        def row(prefix):
            return next(r for w, r in mine.items() if w.startswith(prefix))
        for what in ("baseline", "batch x2", "fused Adam", "torch.compile"):
            assert float(row(what)[3]) > 0 and float(row(what)[7]) > 0  # steps/s, TFLOP/s
        assert row("batch x2")[2] == "2" and row("batch x4")[2] == "4"
        assert float(row("render_driving")[4]) > 0
        assert re.match(r"(PASS|FAIL): mean G_l[12]", row("engine.train")[9])
        assert row("render on cpu vs CPU")[9].startswith("PASS: abs(cpu - cpu) max 0,")
    assert "skipped: needs CUDA" in {r[1]: r for r in rows if r[0] == "edn"}[
        "CUDA graph of the whole step"][9]
    assert "not attempted" in {r[1]: r for r in rows if r[0] == "d2g"}[
        "CUDA graph of the whole step"][9]


def test_a_short_budget_skips_sections_and_still_ends_with_the_table(prepared, env, tmp_path):
    _, folder = prepared
    done = subprocess.run([sys.executable, BENCH, "--folder", str(folder), "--smoke",
                           "--work", str(tmp_path / "work"), "--budget-s", "9"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    used = int(re.search(r"; (\d+) s of a 9 s budget", done.stdout).group(1))
    rows = table_rows(done.stdout[done.stdout.index("## bench_gpu"):])
    skipped = [r for r in rows if r[9].startswith("skipped")]
    assert used <= 9 and len(skipped) >= 10, done.stdout[-3000:]
