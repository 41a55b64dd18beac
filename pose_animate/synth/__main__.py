"""python -m pose_animate.synth OUT_DIR [--seed N --n-frames N --size N --fps F --style S]"""

import argparse

from ..core.runlog import to_log
from . import DEFAULTS, write_demo
from .motion import STYLES


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m pose_animate.synth",
                                 description="Write a demo clip (video.mp4) and its truth/.")
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    ap.add_argument("--n-frames", type=int, default=DEFAULTS["n_frames"])
    ap.add_argument("--size", type=int, default=DEFAULTS["size"])
    ap.add_argument("--fps", type=float, default=DEFAULTS["fps"])
    ap.add_argument("--style", choices=sorted(STYLES), default=DEFAULTS["style"])
    a = ap.parse_args(argv)
    with to_log():
        write_demo(a.out_dir, seed=a.seed, n_frames=a.n_frames, size=a.size, fps=a.fps,
                   style=a.style)


if __name__ == "__main__":
    main()
