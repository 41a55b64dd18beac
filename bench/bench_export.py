"""Export time per layout against copying the files that layout reads, in the same run.

    .venv/bin/python bench/bench_export.py [--results results] [--subject demo_target]
        [--layouts gfla mraa ...] [--repeats 3]

Reads a subject's cached stages under RESULTS (subjects/{subject}/, work/{subject}/: what
`make demo` or any run leaves) and exports it in every layout (a dataset layout gets the
subject as its one train subject). Timed, median of --repeats, interleaved:
- export: `export.stage.export(layout, ...)` into a fresh folder (hard links where the layout
  takes files as they are, written files elsewhere);
- bare copy: `shutil.copytree` of the dataset-folder parts the layout reads, the folder a user
  would otherwise assemble by hand before converting anything.
The ratio export / copy is the cost of getting the layout right (resizing, re-encoding,
keypoint conversion) beyond moving its bytes; under 1 where linking beats copying.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.core.runlog import log  # noqa: E402
from pose_animate.export.plan import LAYOUTS  # noqa: E402
from pose_animate.export.stage import export  # noqa: E402


def plan_of(subject: str, results: Path) -> dict:
    where = {"folder": str(results / "subjects" / subject),
             "raw": str(results / "work" / subject / "keypoints_raw"),
             "record": str(results / "work" / subject / "frames.json")}
    return {"name": subject, "train": [subject], "test": [], "subjects": {subject: where}}


def copy_parts(layout: str, where: dict, out: Path) -> None:
    for part in LAYOUTS[layout].PARTS:
        src = Path(where["raw"]) if part == "keypoints_raw" else Path(where["record"]) \
            if part == "fps" else Path(where["folder"]) / part
        dst = out / src.name
        shutil.copytree(src, dst) if src.is_dir() else shutil.copyfile(src, dst)


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default=str(REPO / "results"))
    ap.add_argument("--subject", default="demo_target")
    ap.add_argument("--layouts", nargs="+", default=list(LAYOUTS))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    results = Path(args.results)
    if not (results / "subjects" / args.subject / "frames").is_dir():
        sys.exit(f"no dataset folder {results}/subjects/{args.subject}: run `make demo` or "
                 "pass --results and --subject")
    log.setLevel("ERROR")  # the exports' own log lines (and warnings) would bury the table
    cfg = settings("export")
    plan = plan_of(args.subject, results)
    n = len(list((results / "subjects" / args.subject / "frames").glob("*.png")))
    print(f"subject {args.subject} ({n} frames) of {results}; median of {args.repeats}")
    print(f"{'layout':16} {'export s':>9} {'copy s':>8} {'ratio':>6}  files (linked/copied/written)")
    with tempfile.TemporaryDirectory(dir=results) as tmp:  # same disk: hard links work
        tmp = Path(tmp)
        for layout in args.layouts:
            times, record = {"export": [], "copy": []}, {}
            for k in range(args.repeats):
                out, copy = tmp / f"{layout}{k}", tmp / f"{layout}{k}-copy"
                copy.mkdir()
                runs = {"export": lambda: record.update(export(layout, plan, out, cfg)),
                        "copy": lambda: copy_parts(layout, plan["subjects"][args.subject], copy)}
                for name in (["export", "copy"] if k % 2 == 0 else ["copy", "export"]):
                    times[name].append(timed(runs[name]))
                shutil.rmtree(out)
                shutil.rmtree(copy)
            ours, bare = times["export"], times["copy"]
            o, b = statistics.median(ours), statistics.median(bare)
            files = record["files"]
            print(f"{layout:16} {o:9.2f} {b:8.2f} {o / b:6.2f}  "
                  f"{files['linked']}/{files['copied']}/{files['written']}")


if __name__ == "__main__":
    main()
