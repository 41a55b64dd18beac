"""DAG construction time: `snakemake -n` for sheets of 10, 100 and 1000 subjects.

Goal (issue 7): under 20 s at 1000 subjects. Videos are empty placeholder files (a dry run
never reads them). Prints one line per size and the per-subject cost last.

    .venv/bin/python bench/bench_dag.py [--sizes 10 100 1000]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def dry_run_seconds(n_subjects: int, work: Path) -> tuple[float, int]:
    work.mkdir(parents=True, exist_ok=True)
    rows = ["subject\tvideo"]
    for i in range(n_subjects):
        video = work / "videos" / f"s{i:05d}.mp4"
        video.parent.mkdir(exist_ok=True)
        video.touch()
        rows.append(f"s{i:05d}\t{video}")
    (work / "subjects.tsv").write_text("\n".join(rows) + "\n")
    (work / "config.yaml").write_text("subjects: subjects.tsv\ndemo: {figures: {}}\nrenders: []\n")
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--quiet", "rules",
                          "--snakefile", str(REPO / "Snakefile"), "--configfile", "config.yaml"],
                         cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"snakemake -n failed for {n_subjects} subjects:\n{run.stderr[-2000:]}")
    # Snakemake prints the job stats table twice; its "total" row is the number of jobs.
    totals = [line.split()[-1] for line in (run.stdout + run.stderr).splitlines()
              if line.startswith("total") and line.split()[-1].isdigit()]
    if not totals:
        sys.exit(f"snakemake -n printed no job stats for {n_subjects} subjects")
    return seconds, int(totals[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for n in args.sizes:
            seconds, jobs = dry_run_seconds(n, Path(tmp) / f"n{n}")
            results.append((n, seconds, jobs))
            print(f"subjects={n:5d}  jobs={jobs:6d}  snakemake -n: {seconds:6.2f} s")
    (n0, s0, j0), (n1, s1, j1) = results[0], results[-1]
    if n1 > n0:
        print(f"marginal cost: {(s1 - s0) / (n1 - n0) * 1000:.1f} ms and "
              f"{(j1 - j0) / (n1 - n0):.0f} jobs per subject; "
              f"{s1:.1f} s at {n1} subjects (goal < 20 s)")


if __name__ == "__main__":
    main()
