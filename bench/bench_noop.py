"""A finished run run again: time of `snakemake --cores 2` that has nothing to do.

Builds a small 5-subject workflow (demo figures, 12 frames at 96 px, no renders), runs it
once, then times the no-op rerun (goal, issue 7: under 5 s at 5 subjects).

    .venv/bin/python bench/bench_noop.py [--subjects 5] [--repeats 3]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def snakemake(work: Path, *args) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
                          "--configfile", "config.yaml", *args], cwd=work, capture_output=True,
                         text=True)
    if run.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        names = [f"figure{i}" for i in range(args.subjects)]
        config = {"subjects": "subjects.tsv", "frames": {"size": 96},
                  "keypoints": {"face_hands": False, "qa_frames": 4}, "renders": [],
                  "demo": {"figures": {n: {"seed": i, "n_frames": 12, "size": 96}
                                       for i, n in enumerate(names)}}}
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        (work / "subjects.tsv").write_text("subject\tvideo\n" + "".join(
            f"{n}\tresults/demo/{n}/video.mp4\n" for n in names))
        start = time.perf_counter()
        snakemake(work, "--cores", "2")
        print(f"first run of {args.subjects} subjects: {time.perf_counter() - start:.1f} s")
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run = snakemake(work, "--cores", "2")
            times.append(time.perf_counter() - start)
            assert "Nothing to be done" in run.stdout + run.stderr, "the rerun did work"
        print(f"no-op rerun: median {statistics.median(times):.2f} s over {args.repeats} "
              f"(min {min(times):.2f}); goal < 5 s")


if __name__ == "__main__":
    main()
