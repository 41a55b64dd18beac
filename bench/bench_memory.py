"""Peak memory of every stage at two video lengths: does any stage grow with the video?

    .venv/bin/python bench/bench_memory.py [--short 48] [--long 192]

Runs the whole workflow (every stage, a tiny edn training, a render, the evaluation) twice on
demo figures of the two lengths, each in its own work folder (bench/out/memory/<frames>), and
reads the peak resident memory each job's log ends with ("done in ... s, peak memory N MiB":
the job's process and the largest child it waited for, i.e. ffmpeg). Prints, per job, the
peak at both lengths and the growth per frame; a stage whose memory is flat in video length
grows by a few KB a frame at most (page-cache noise, Python's allocator).
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
PEAK = re.compile(r"peak memory (\d+(?:\.\d+)?) MiB")


def config(frames: int) -> dict:
    figure = {"n_frames": frames, "size": 160, "fps": 12}
    return {
        "subjects": "subjects.tsv",
        "demo": {"figures": {"mem_target": {**figure, "seed": 1, "style": "groove"},
                             "mem_driving": {**figure, "seed": 2, "style": "wave",
                                             "scale": 0.85}}},
        "frames": {"crop": "person", "size": 128},
        "models": [{"family": "edn", "subject": "mem_target"}],
        "families": {"edn": {"preset": "tiny", "size": 64, "steps": 10, "batch_size": 2,
                             "checkpoint_every": 5, "log_every": 5, "workers": 0}},
        "renders": [{"family": "edn", "target": "mem_target", "driving": "mem_driving"}],
    }


def run(frames: int, cores: int) -> dict[str, float]:
    """Run the workflow on figures of `frames` frames; {job log path: peak MiB}."""
    work = REPO / "bench" / "out" / "memory" / str(frames)
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text(yaml.safe_dump(config(frames), sort_keys=False))
    (work / "subjects.tsv").write_text("subject\tvideo\n"
                                       "mem_target\tresults/demo/mem_target/video.mp4\n"
                                       "mem_driving\tresults/demo/mem_driving/video.mp4\n")
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
           "--configfile", "config.yaml", "--cores", str(cores), "--forceall", "--quiet"]
    print("$", " ".join(cmd), f"(in {work})", flush=True)
    subprocess.run(cmd, cwd=work, check=True)
    peaks = {}
    for log in sorted((work / "logs").rglob("*.log")):
        found = PEAK.findall(log.read_text(errors="replace"))
        if found:
            peaks[str(log.relative_to(work / "logs").with_suffix(""))] = float(found[-1])
    return peaks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=48)
    parser.add_argument("--long", type=int, default=192)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args(argv)
    short, long = run(args.short, args.cores), run(args.long, args.cores)
    extra = args.long - args.short
    print(f"\npeak resident memory per job (MiB) at {args.short} and {args.long} frames")
    print(f"{'job':42s} {args.short:>8d} {args.long:>8d} {'KB/frame':>9s}")
    for job in sorted(set(short) & set(long)):
        growth = (long[job] - short[job]) * 1024 / extra
        print(f"{job:42s} {short[job]:8.0f} {long[job]:8.0f} {growth:9.1f}")


if __name__ == "__main__":
    main()
