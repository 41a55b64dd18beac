"""Cleaning benchmark: accuracy on held-out real motion, jitter and lag on real OpenPose output,
throughput against the keypoint detector, and the noise model's calibration.

1. Penn Action (../shared/realdata/keypoint_sequences/penn_action_train, hand-labelled real
   motion): clips split by clip into train/val/test (`motion_data.split_by_clip`), the noise
   model applied; MPJPE of noisy, each classical filter (parameters tuned on val), and the
   motion net (trained on train) on test, in px and % of body size.
2. Real OpenPose BODY_25 output (openpose_body25_real, no ground truth): median |second
   difference| before and after, and the lag (peak of the cross-correlation of velocities
   against raw, in frames; `filters.lag_frames`).
3. Throughput: cleaning per frame vs mediapipe holistic per frame on real video frames.
4. Noise-model calibration against real detector statistics.

    .venv/bin/python bench/bench_clean.py [--steps 3000] [--channels 64] [--save ckpt.pt]

The net trained here comes from real data: it is never committed (see README).
"""

import argparse
import itertools
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pose_animate.clean.filters import (DEFAULT_FILTERS, clean_sequence,  # noqa: E402
                                        lag_frames, second_difference_jitter, sequence_scale)
from pose_animate.clean.motion_data import (embed_body, make_pairs,  # noqa: E402
                                            read_clean_sequences, split_by_clip)
from pose_animate.clean.motion_net import NetConfig, load_motion_net, save_motion_net  # noqa: E402
from pose_animate.clean.motion_train import train_motion_net  # noqa: E402
from pose_animate.clean.noise import NoiseModel, apply_noise  # noqa: E402
from pose_animate.core.body import body_height_px  # noqa: E402
from pose_animate.core.formats import read_openpose  # noqa: E402

JITTER_RANGE = (0.001, 0.02)
REAL = REPO.parent / "shared" / "realdata"
PENN = REAL / "keypoint_sequences" / "penn_action_train"
OPENPOSE = REAL / "keypoint_sequences" / "openpose_body25_real"

GRID = {
    "none": [{"method": "none"}],
    "gaussian": [{"method": "gaussian", "sigma": s} for s in (0.75, 1.0, 1.5, 2.0, 3.0)],
    "savgol": [{"method": "savgol", "window": w, "order": o}
               for w, o in itertools.product((5, 7, 9, 11, 15), (1, 2, 3)) if w > o + 2],
    "one_euro": [{"method": "one_euro", "min_cutoff": c, "beta": b}
                 for c, b in itertools.product((0.02, 0.05, 0.1, 0.2), (0.5, 2.0, 8.0))],
}


def score(outputs, pairs):
    """MPJPE (px) and MPJPE as % of body size over the scored points of all pairs."""
    px, rel, n = 0.0, 0.0, 0
    for out, p in zip(outputs, pairs):
        mask = (p["target"][..., 2] > 0) & (p["input"][..., 2] > 0)
        err = np.linalg.norm(out[..., :2] - p["target"][..., :2], axis=-1)[mask]
        px += err.sum()
        rel += err.sum() / sequence_scale(p["target"])
        n += mask.sum()
    return px / n, 100 * rel / n


def classical(pairs, joints, body_filter):
    return [clean_sequence(embed_body(p["noisy"], joints), filters={"body": body_filter})[0]
            [:, joints] for p in pairs]


CONDITIONS = {"calibrated noise": NoiseModel(),
              "heavy jitter (white 1 % of body size)": NoiseModel(jitter=0.01)}


def penn_benchmark(args):
    seqs, joints = read_clean_sequences([PENN])
    split = split_by_clip([name for name, _ in seqs])
    part = {k: [s for (_, s), sp in zip(seqs, split) if sp == k][:args.max_clips]
            for k in ("train", "val", "test")}
    print(f"Penn Action: {len(seqs)} clips, split by clip (used: "
          + ", ".join(f"{k} {len(v)}" for k, v in part.items()) + ")")
    rng = np.random.default_rng(0)
    train = make_pairs(part["train"], joints, rng, draws=args.draws, jitter_range=JITTER_RANGE)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    cfg = NetConfig(joints=joints, channels=args.channels)
    val_monitor = make_pairs(part["val"][:60], joints, rng, jitter_range=JITTER_RANGE)
    net, history = train_motion_net(train, cfg, steps=args.steps, batch_size=args.batch,
                                    val_pairs=val_monitor, log_every=max(1, args.steps // 5))
    print(f"  motion net: {args.channels} channels, {args.steps} steps, trained in "
          f"{time.perf_counter() - start:.0f} s on {args.threads} CPU threads, on train clips "
          f"with the noise model (white jitter drawn from {JITTER_RANGE} x body size)")
    if args.save:
        save_motion_net(args.save, net, {"trained_on": "penn_action (bench)", "history": history})
    best_calibrated = None
    for condition, noise in CONDITIONS.items():
        val = make_pairs(part["val"], joints, rng, noise)
        test = make_pairs(part["test"], joints, rng, noise)
        print(f"  [{condition}] test MPJPE:")
        raw_px, raw_rel = score([p["noisy"] for p in test], test)
        print(f"    noisy as detected        {raw_px:6.2f} px = {raw_rel:5.2f} % of body size")
        prep_px, prep_rel = score([p["input"] for p in test], test)
        print(f"    outliers/swaps/gaps only {prep_px:6.2f} px = {prep_rel:5.2f} %")
        default_px, default_rel = score(classical(test, joints, DEFAULT_FILTERS["body"]), test)
        print(f"    {'default config':24s} {default_px:6.2f} px = {default_rel:5.2f} %  "
              f"({DEFAULT_FILTERS['body']['method']})")
        best = None
        for family, grid in GRID.items():
            val_scores = [(score(classical(val, joints, f), val)[1], f) for f in grid]
            rel_val, f = min(val_scores, key=lambda v: v[0])
            test_px, test_rel = score(classical(test, joints, f), test)
            print(f"    {family:24s} {test_px:6.2f} px = {test_rel:5.2f} %  (tuned on val: {f})")
            if best is None or rel_val < best[0]:
                best = (rel_val, f, test_px, test_rel)
        outs = [net.denoise(p["input"], p["observed"]) for p in test]
        net_px, net_rel = score(outs, test)
        print(f"    {'motion net':24s} {net_px:6.2f} px = {net_rel:5.2f} %  "
              f"({net_rel / best[3]:.3f}x the best classical, {best[1]['method']})")
        for path in args.eval_checkpoint:
            other = load_motion_net(path)
            px, rel = score([denoise_subset(other, p, joints) for p in test], test)
            print(f"    {'net ' + Path(path).name:24s} {px:6.2f} px = {rel:5.2f} %")
        best_calibrated = best_calibrated or best[1]
    return net, best_calibrated


def denoise_subset(net, pair, joints):
    """A net's output for a pair whose columns are `joints` (the net may know more joints;
    those it sees as missing)."""
    body_in = embed_body(pair["input"], joints)
    observed = np.zeros((len(body_in), 25), bool)
    observed[:, joints] = pair["observed"]
    cols = [net.config.joints.index(j) for j in joints]
    return net.denoise(body_in[:, net.config.joints], observed[:, net.config.joints])[:, cols]


def openpose_benchmark(net, best_filter):
    files = sorted(OPENPOSE.glob("*_keypoints.json"))
    seq = np.stack([read_openpose(f)[0] for f in files])
    height = np.nanmedian([body_height_px(p) for p in seq])
    print(f"Real OpenPose BODY_25 ({len(seq)} frames, body height {height:.0f} px): "
          f"raw body jitter {second_difference_jitter(seq):.2f} px")
    runs = {"default config": {}, f"tuned {best_filter['method']}": {"filters": {"body": best_filter}}}
    if net is not None:
        runs["motion net"] = {"net": net}
    for name, opts in runs.items():
        out, _ = clean_sequence(seq, **opts)
        # Jitter on the points the detector reported (gap-filled points are not counted).
        kept = out.copy()
        kept[seq[..., 2] < 0.1] = 0
        lag = lag_frames(seq[:, :25], out[:, :25])
        print(f"  {name:16s}: body jitter {second_difference_jitter(kept):.2f} px "
              f"({second_difference_jitter(kept) / second_difference_jitter(seq):.2f}x raw), "
              f"face {second_difference_jitter(kept, slice(25, 95)):.2f} px "
              f"(raw {second_difference_jitter(seq, slice(25, 95)):.2f}), "
              f"lag {lag:+.0f} frames")


def throughput():
    import cv2
    import mediapipe as mp

    video = REAL / "videos" / "mmhuman3d_single_person_demo.mp4"
    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < 20:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(img, (512, int(512 * img.shape[0] / img.shape[1]))))
    with mp.solutions.holistic.Holistic(static_image_mode=False, model_complexity=1) as holistic:
        holistic.process(cv2.cvtColor(frames[0], cv2.COLOR_BGR2RGB))
        start = time.perf_counter()
        for img in frames:
            holistic.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        detect = (time.perf_counter() - start) / len(frames)
    seq = np.stack([read_openpose(f)[0] for f in sorted(OPENPOSE.glob("*_keypoints.json"))])
    long = np.tile(seq, (10, 1, 1))
    start = time.perf_counter()
    clean_sequence(long)
    clean = (time.perf_counter() - start) / len(long)
    print(f"Throughput: mediapipe holistic {detect * 1000:.1f} ms/frame, cleaning "
          f"{clean * 1000:.3f} ms/frame ({len(long)} frames): {100 * clean / detect:.2f} % added")


def calibrate():
    rng = np.random.default_rng(0)
    pose = np.zeros((25, 3), np.float32)
    pose[:, 0], pose[:, 1], pose[:, 2] = np.linspace(100, 200, 25), np.linspace(0, 600, 25), 1
    still = np.repeat(pose[None], 2000, 0)
    size = sequence_scale(still)
    jitter_only = apply_noise(still, rng, NoiseModel(drop_rate=0, swap_rate=0, outlier_rate=0))
    err = np.linalg.norm(jitter_only[..., :2] - still[..., :2], axis=-1) / size
    full = apply_noise(still, rng, NoiseModel())
    kept = full[..., 2] > 0
    err_full = np.linalg.norm(full[..., :2] - still[..., :2], axis=-1)[kept] / size
    seq = np.stack([read_openpose(f)[0] for f in sorted(OPENPOSE.glob("*_keypoints.json"))])
    real_size = sequence_scale(seq)
    det = np.load(REAL / "keypoints_gt" / "h36m" / "test_h36m_2d_detection.npy")
    gt = np.load(REAL / "keypoints_gt" / "h36m" / "test_h36m_body3d.npz")["part"]
    gt_size = gt[:, :, 1].max(1) - gt[:, :, 1].min(1)
    det_err = np.linalg.norm(det[..., :2] - gt[..., :2], axis=-1) / gt_size[:, None]
    print("Noise model calibration (% of body size):")
    print(f"  jitter (median |2nd diff|): real OpenPose {100 * second_difference_jitter(seq) / real_size:.2f}"
          f" (includes real motion), model on a still pose {100 * second_difference_jitter(jitter_only) / size:.2f}")
    print(f"  per-point error vs truth: real detector on H36M median {100 * np.median(det_err):.2f} "
          f"mean {100 * det_err.mean():.2f}; model median {100 * np.median(err):.2f} (jitter) / "
          f"{100 * np.median(err_full):.2f} mean {100 * err_full.mean():.2f} (all kinds), "
          f"{100 * (1 - kept.mean()):.1f} % dropped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--draws", type=int, default=2, help="noise draws per training clip")
    parser.add_argument("--max-clips", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (on a busy machine more can be much slower)")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--eval-checkpoint", nargs="*", default=[],
                        help="also score these checkpoints on the Penn test clips")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["penn", "openpose", "throughput", "calibrate"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if not REAL.is_dir():
        sys.exit(f"{REAL} is absent: this benchmark needs the real data.")
    if "calibrate" not in args.skip:
        calibrate()
    net, best = (None, {"method": "savgol", "window": 9, "order": 2})
    if "penn" not in args.skip:
        net, best = penn_benchmark(args)
    if "openpose" not in args.skip:
        openpose_benchmark(net, best)
    if "throughput" not in args.skip:
        throughput()


if __name__ == "__main__":
    main()
