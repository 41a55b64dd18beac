"""Frame extraction throughput against bare ffmpeg making the same frames, in the same run.

    .venv/bin/python bench/bench_frames.py [--video V] [--size 512] [--repeats 2]

Video: ../shared/realdata/videos/musepose_dance.mp4 (288 frames, 1080x1920), else a synthetic
demo clip. Timed, best of --repeats, all on the same machine one after the other:
- ours: `extract_frames(video, crop="person", size=512)`: probe, the low-resolution person
  pass, then ffmpeg crop + scale (+ pad) + PNG; threads = the machine's cores.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.frames import extract_frames  # noqa: E402
from pose_animate.videoio import ffmpeg_exe  # noqa: E402

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


def best_of(repeats: int, run) -> tuple[float, float]:
    """(wall seconds, CPU seconds), each the least of `repeats` runs."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), cpu_seconds()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return min(walls), min(cpus)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=None)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_frames_"))
    try:
        video = args.video or (REALDATA_VIDEO if REALDATA_VIDEO.is_file() else None)
        if video is None:
            from pose_animate.synth import write_demo

            write_demo(work / "synth", seed=0, n_frames=96, size=512, fps=24)
            video = work / "synth" / "video.mp4"
        threads = os.cpu_count() or 1
        records = []

        def ours():
            records.append(extract_frames(video, work / "ours", crop="person", size=args.size,
                                          threads=threads))

        t_ours = best_of(args.repeats, ours)
        record = records[-1]
        n = record["frames"]
        filters = bare_filters(record)

        def bare(*png_options):
            out = work / "bare"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", filters,
                            *png_options, str(out / "%06d.png")], check=True)
            assert len(list(out.glob("*.png"))) == n

        t_bare = best_of(args.repeats, bare)
        level = ["-compression_level", "1"]
        t_level = best_of(args.repeats, lambda: bare(*level))
        seconds = record["seconds"]
        print(f"video: {video} ({record['probe']['width']}x{record['probe']['height']}, "
              f"{n} frames), {threads} threads, best of {args.repeats}; wall time, and CPU "
              "time (steadier on a shared machine)")
        print(f"ours: crop=person size={args.size}: {t_ours[0]:.2f} s ({n / t_ours[0]:.1f} "
              f"frames/s), CPU {t_ours[1]:.2f} s (probe {seconds['probe']:.2f} s, person pass "
              f"{seconds['person_pass']:.2f} s, ffmpeg {seconds['extract']:.2f} s; person in "
              f"{record['person_pass']['found']} of {record['person_pass']['sampled']} samples, "
              f"crop {record['crop_box']})")
        print(f"bare ffmpeg, same PNG level: ffmpeg -i VIDEO -vf {filters} {' '.join(level)} "
              f"%06d.png: {t_level[0]:.2f} s ({n / t_level[0]:.1f} frames/s), CPU "
              f"{t_level[1]:.2f} s; ratio ours/bare: wall {t_level[0] / t_ours[0]:.2f}, CPU "
              f"{t_level[1] / t_ours[1]:.2f}")
        print(f"bare ffmpeg (defaults): ffmpeg -i VIDEO -vf {filters} %06d.png: "
              f"{t_bare[0]:.2f} s ({n / t_bare[0]:.1f} frames/s), CPU {t_bare[1]:.2f} s")
        print(f"ratio ours/bare ffmpeg throughput: wall {t_bare[0] / t_ours[0]:.2f}, "
              f"CPU {t_bare[1] / t_ours[1]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
