"""Tables of the rules' `benchmark:` files: time and memory per stage across subjects.

    python -m pose_animate.core.benchmarks [benchmarks/] [--by-subject]

Snakemake writes one TSV per job at benchmarks/{rule}/{wildcards}.tsv (for the renderers
benchmarks/{rule}/{family}/{name}.tsv) with columns s, max_rss (MiB), mean_load, cpu_time, ...;
this collects them.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd


def collect(folder) -> pd.DataFrame:
    """One row per job: rule, job (the file's path below the rule's folder, without .tsv),
    seconds, max_rss_mib, cpu_seconds."""
    rows = []
    folder = Path(folder)
    for tsv in sorted(folder.rglob("*.tsv")):
        rule, *job = tsv.relative_to(folder).with_suffix("").parts
        if not job:
            continue
        try:
            table = pd.read_csv(tsv, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if table.empty or "s" not in table:
            continue
        last = table.iloc[-1]  # with --benchmark-repeats, the last repeat
        rows.append({"rule": rule, "job": "/".join(job), "seconds": float(last["s"]),
                     "max_rss_mib": pd.to_numeric(last.get("max_rss"), errors="coerce"),
                     "cpu_seconds": pd.to_numeric(last.get("cpu_time"), errors="coerce")})
    return pd.DataFrame(rows, columns=["rule", "job", "seconds", "max_rss_mib", "cpu_seconds"])


def summarise(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per rule: job count, total/mean/max seconds, peak memory; slowest stage first."""
    if jobs.empty:
        return pd.DataFrame(columns=["jobs", "total_s", "mean_s", "max_s", "peak_rss_mib"])
    table = jobs.groupby("rule").agg(jobs=("job", "count"), total_s=("seconds", "sum"),
                                     mean_s=("seconds", "mean"), max_s=("seconds", "max"),
                                     peak_rss_mib=("max_rss_mib", "max"))
    return table.sort_values("total_s", ascending=False).round(2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="benchmarks")
    parser.add_argument("--by-subject", action="store_true", help="one row per job instead")
    args = parser.parse_args(argv)
    jobs = collect(args.folder)
    if jobs.empty:
        sys.exit(f"no benchmark files under {args.folder}/ (run the workflow first)")
    table = jobs.round(2) if args.by_subject else summarise(jobs)
    print(table.to_string())
    print(f"\n{len(jobs)} jobs, {jobs['seconds'].sum():.1f} s of job time in all")


if __name__ == "__main__":
    main()
