"""Subject tracking on hand-labelled real motion: how many of the visible joints survive import
and cleaning when a detector's errors are added (jitter, drift, dropped points, left/right
swaps, spurious far-off joints) and joints go in and out of view (Penn Action's own
visibility labels: occluded limbs, people leaving the picture).

    .venv/bin/python bench/bench_tracking.py --clips 100

Each Penn Action clip (13 labelled joints per frame) gets the detector-noise model
(pose_animate.clean.noise, `--outliers` spurious joints per point and frame), is written as
OpenPose JSON in the clip's pixels, imported by the keypoints stage (which follows one
subject) and cleaned by the clean stage with the default settings. Printed: the share of the
labelled-visible joints present after cleaning, per clip (worst first) and over all clips.
The issue's goal: at least 98 % of the visible joints present.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PENN = REPO.parent / "shared" / "realdata" / "keypoint_sequences" / "penn_action_train"


def clip_survival(path: Path, rng, noise, work: Path) -> np.ndarray:
    """Counts of a clip's labelled-visible joints: all of them, those the noisy detector
    reported, those present after import, after cleaning, and reported and kept."""
    from pose_animate.clean.motion_data import read_penn_action
    from pose_animate.clean.motion_net import PENN_JOINTS
    from pose_animate.clean.noise import apply_noise
    from pose_animate.clean.stage import clean_keypoints
    from pose_animate.core.body import N_POINTS
    from pose_animate.core.config import settings
    from pose_animate.core.formats import read_openpose_folder, write_openpose
    from pose_animate.keypoints.import_openpose import import_openpose_folder

    labels = read_penn_action(path)
    n = len(labels)
    people = np.zeros((n, N_POINTS, 3), np.float32)
    people[:, PENN_JOINTS] = labels
    noisy = apply_noise(people[:, PENN_JOINTS], rng, noise, joints=PENN_JOINTS)
    source = work / "openpose"
    source.mkdir()
    for t in range(n):
        person = np.zeros((N_POINTS, 3), np.float32)
        person[PENN_JOINTS] = noisy[t]
        write_openpose(source / f"{path.stem}_{t:012d}_keypoints.json",
                       [person] if person[:, 2].any() else [])
    from scipy.io import loadmat

    height, width = (int(v) for v in loadmat(path)["dimensions"].ravel()[:2])  # the video's
    size = (max(width, int(np.nanmax(labels[..., 0])) + 1),
            max(height, int(np.nanmax(labels[..., 1])) + 1))
    import_openpose_folder(source, work / "raw", n_source_frames=n, frame_size=size)
    clean_keypoints(work / "raw", work / "clean", settings("clean"))
    imported = read_openpose_folder(work / "raw", n)[:, PENN_JOINTS, 2] > 0
    cleaned = read_openpose_folder(work / "clean", n)[:, PENN_JOINTS, 2] > 0
    visible = labels[..., 2] > 0
    reported = visible & (noisy[..., 2] > 0)
    return np.array([visible.sum(), reported.sum(), (visible & imported).sum(),
                     (visible & cleaned).sum(), (reported & cleaned).sum()])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=100, help="first N clips (sorted)")
    parser.add_argument("--outliers", type=float, default=0.002,
                        help="spurious far-off joints per point and frame (the noise model's)")
    parser.add_argument("--drop-rate", type=float, default=None,
                        help="detector dropouts per point and frame (default: the noise "
                             "model's, 0.004, bursts of up to 12 frames)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not PENN.is_dir():
        sys.exit(f"{PENN} is absent")
    from dataclasses import replace

    from pose_animate.clean.noise import NoiseModel
    from pose_animate.core.runlog import log

    log.setLevel("WARNING")
    noise = replace(NoiseModel(), outlier_rate=args.outliers)
    if args.drop_rate is not None:
        noise = replace(noise, drop_rate=args.drop_rate)
    rng = np.random.default_rng(args.seed)
    counts = {}
    for path in sorted(PENN.glob("*.mat"))[:args.clips]:
        with tempfile.TemporaryDirectory() as tmp:
            counts[path.stem] = clip_survival(path, rng, noise, Path(tmp))
    share = {name: c[3] / max(c[0], 1) for name, c in counts.items()}
    worst = sorted(share, key=share.get)[:8]
    print("worst clips (visible joints present after cleaning): "
          + ", ".join(f"{name} {share[name]:.1%}" for name in worst))
    total = np.sum(list(counts.values()), axis=0)
    values = np.array(list(share.values()))
    print(f"{len(counts)} clips, {total[0]} labelled-visible joints ({noise}):")
    print(f"  reported by the noisy detector  {total[1] / total[0]:.2%}")
    print(f"  present after import            {total[2] / total[0]:.2%}")
    print(f"  present after cleaning          {total[3] / total[0]:.2%}   (goal >= 98 %); "
          f"per clip: median {np.median(values):.2%}, worst {values.min():.1%}")
    print(f"  of those reported, kept         {total[4] / total[1]:.2%}")


if __name__ == "__main__":
    main()
