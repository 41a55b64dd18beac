"""Frame extraction throughput against bare ffmpeg making the same frames, in the same run.

    .venv/bin/python bench/bench_frames.py [--video V] [--size 512] [--repeats 3]
        [--person-samples N]

Video: ../shared/realdata/videos/musepose_dance.mp4 (288 frames, 1080x1920), else a synthetic
demo clip. Timed: the median of --repeats runs of each, interleaved in rotating order:
- ours: `extract_frames(video, out, settings("frames", crop="person", size=512))`: probe,
  the low-resolution person pass, then ffmpeg crop + scale (+ pad) + PNG; threads = the
  machine's cores.
- bare ffmpeg (defaults): `ffmpeg -i VIDEO -vf FILTERS OUT/%06d.png`, where FILTERS is the
  crop/scale/pad chain our run chose (so both write the same frames), with ffmpeg's own PNG
  settings: the plain command a user would type to get these frames.
- bare ffmpeg (same PNG level): the same command with `-compression_level` set to ours, i.e.
  ffmpeg's share of our run alone; the difference is what probing and the person pass cost.
Throughput is frames per second of wall time; the goal is ours >= 0.85 x bare ffmpeg.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.core.config import settings  # noqa: E402
from pose_animate.core.videoio import ffmpeg_exe  # noqa: E402
from pose_animate.frames.extract import extract_frames  # noqa: E402

REALDATA_VIDEO = Path(__file__).resolve().parents[2] / "shared/realdata/videos/musepose_dance.mp4"


def bare_filters(record: dict) -> str:
    """The -vf chain that makes the frames our run made (crop, scale, pad as it chose)."""
    width, height = record["probe"]["width"], record["probe"]["height"]
    left, top, content_w, content_h = record["content_box"]
    inside = record["source_region"]
    steps = []
    if inside != [0, 0, width, height]:
        steps.append("crop={2}:{3}:{0}:{1}".format(*inside))
    steps.append(f"scale={content_w}:{content_h}")
    if record["padded"]:
        steps.append(f"pad={record['size'][0]}:{record['size'][1]}:{left}:{top}")
    return ",".join(steps)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg), user + system."""
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    start, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - start, cpu_seconds() - cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--person-samples", type=int, default=None,
                        help="frames.person_samples (default: the config's default)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_frames_"))
    try:
        video = args.video or (REALDATA_VIDEO if REALDATA_VIDEO.is_file() else None)
        if video is None:
            from pose_animate.synth import write_demo

            write_demo(work / "synth", seed=0, n_frames=96, size=512, fps=24)
            video = work / "synth" / "video.mp4"
        threads = os.cpu_count() or 1
        samples = {} if args.person_samples is None else {"person_samples": args.person_samples}
        frames_settings = settings("frames", crop="person", size=args.size, **samples)
        records = []

        def ours():
            shutil.rmtree(work / "ours", ignore_errors=True)
            records.append(extract_frames(video, work / "ours", frames_settings,
                                          threads=threads))

        ours()  # untimed: the bare commands need the crop it chooses (and caches are warm)
        record = records[-1]
        n = record["frames"]
        filters = bare_filters(record)
        level = ["-compression_level", "1"]

        def bare(*png_options):
            out = work / "bare"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", filters,
                            *png_options, str(out / "%06d.png")], check=True)
            assert len(list(out.glob("*.png"))) == n

        runs = {"ours": ours, "level": lambda: bare(*level), "defaults": bare}
        times = {name: [] for name in runs}
        for r in range(args.repeats):  # interleaved, the order rotating: same conditions
            names = list(runs)[r % 3:] + list(runs)[:r % 3]
            for name in names:
                times[name].append(timed(runs[name]))
        wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
        person = [rec["seconds"]["person_pass"] for rec in records[1:]]

        def ratio(name):
            per_run = [b[0] / o[0] for b, o in zip(times[name], times["ours"])]
            return (f"ratio ours/bare: wall {wall[name] / wall['ours']:.2f} (per run "
                    f"{min(per_run):.2f}-{max(per_run):.2f}), CPU {cpu[name] / cpu['ours']:.2f}")

        print(f"video: {video} ({record['probe']['width']}x{record['probe']['height']}, "
              f"{n} frames), {threads} threads, median of {args.repeats} interleaved runs; "
              f"wall time, and CPU time (steadier on a shared machine); load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"ours: crop=person size={args.size}: {wall['ours']:.2f} s ({n / wall['ours']:.1f} "
              f"frames/s), CPU {cpu['ours']:.2f} s (person pass {statistics.median(person):.2f} s "
              f"wall; person in {record['person_pass']['found']} of "
              f"{record['person_pass']['sampled']} samples, crop {record['crop_box']})")
        print(f"bare ffmpeg, same PNG level: ffmpeg -i VIDEO -vf {filters} {' '.join(level)} "
              f"%06d.png: {wall['level']:.2f} s ({n / wall['level']:.1f} frames/s), CPU "
              f"{cpu['level']:.2f} s; {ratio('level')}")
        print(f"bare ffmpeg (defaults): ffmpeg -i VIDEO -vf {filters} %06d.png: "
              f"{wall['defaults']:.2f} s ({n / wall['defaults']:.1f} frames/s), CPU "
              f"{cpu['defaults']:.2f} s; {ratio('defaults')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
