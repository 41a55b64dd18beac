"""DensePose-style IUV and texture: accuracy against exact and real references, and speed.

    .venv/bin/python bench/bench_densepose.py [--frames 48] [--size 256] [--realdata DIR]

1. Demo subject (pose_animate.synth, the config's demo_target figure, exact IUV): part
   accuracy, U/V mean absolute error and foreground IoU of the skeleton backend, with the
   exact masks (as the masks stage would give at best) and with keypoint capsules only; and,
   as the bare reference, the same shapes without drawing layers (every pixel to the
   nearest bone, what a plain nearest-bone labelling gives).
2. Texture on the demo subject (and on pipeline outputs given with --subject): PSNR over the
   person of frames re-rendered from the atlas against the real frames, with the exact IUV
   and with the skeleton IUV, on the frames it was unfolded from and on held-out frames;
   against a bare unfold (plain per-texel mean) on the same IUV.
3. Human3.6M (4 real frames, BF_IUV_gt): foreground IoU of the capsule silhouette and of the
   masks stage's mediapipe mask, and coarse part agreement with the body-frame maps
   (pose_animate.densepose.h36m).
4. Speed: ms per frame of the skeleton backend and of the unfold, against reading and writing
   the frame's IUV PNG (the I/O every backend pays).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pose_animate.densepose import skeleton, texture  # noqa: E402
from pose_animate.densepose.h36m import (canonical_joints, h36m_to_body25,  # noqa: E402
                                         region_agreement, region_map)
from pose_animate.densepose.metrics import iuv_agreement  # noqa: E402
from pose_animate.densepose.skeleton import SkeletonIUV  # noqa: E402
from pose_animate.core.formats import read_iuv, write_iuv  # noqa: E402
from pose_animate.densepose.texture import TextureAccumulator, person_psnr, rerender  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def mean_of(rows):
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def run_skeleton(frames, use_mask):
    conv = SkeletonIUV()
    out, start = [], time.perf_counter()
    for f in frames:
        out.append(conv(f.keypoints, f.mask.shape, f.mask if use_mask else None))
    return out, 1000 * (time.perf_counter() - start) / len(frames)


def unfold_psnr(images, iuvs, neighbour_prior=0.25, view_weights=True):
    """(in-sample PSNR, held-out PSNR, coverage, ms/frame): unfold the even frames, re-render
    them and the odd ones (a texture must also fit poses it was not made from)."""
    saved = texture._pixel_weights
    if not view_weights:
        texture._pixel_weights = lambda parts, u, v: np.ones(parts.shape)
    try:
        acc = TextureAccumulator(neighbour_prior)
        start = time.perf_counter()
        for image, iuv in zip(images[0::2], iuvs[0::2]):
            acc.add(image, *iuv)
        atlas, record = acc.finish()
        ms = 1000 * (time.perf_counter() - start) / len(images[0::2])
    finally:
        texture._pixel_weights = saved
    # what users get: the atlas as texture.jpg (quality 95)
    ok, jpg = cv2.imencode(".jpg", atlas, [cv2.IMWRITE_JPEG_QUALITY, 95])
    atlas = cv2.imdecode(jpg, cv2.IMREAD_COLOR)

    def psnr(sel):
        return float(np.mean([person_psnr(img, rerender(atlas, *iuv), iuv[0] > 0)
                              for img, iuv in zip(images[sel], iuvs[sel])]))
    return psnr(slice(0, None, 2)), psnr(slice(1, None, 2)), record["mean_coverage"], ms


def texture_table(title, images, cases):
    print(f"\n== texture: {title} (PSNR over the person, dB; texture.jpg q95; unfolded from the "
          f"even frames, held out: the odd ones) ==")
    print(f"{'IUV used to unfold and re-render':34s} {'in':>6s} {'held-out':>8s} "
          f"{'prior 0':>8s} {'bare':>6s} {'coverage':>8s} {'ms/frame':>8s}")
    for name, iuvs in cases:
        ins, out, coverage, ms = unfold_psnr(images, iuvs)
        _, no_prior, _, _ = unfold_psnr(images, iuvs, neighbour_prior=0)
        _, bare, _, _ = unfold_psnr(images, iuvs, neighbour_prior=0, view_weights=False)
        print(f"{name:34s} {ins:6.2f} {out:8.2f} {no_prior:8.2f} {bare:6.2f} {coverage:8.3f} "
              f"{ms:8.1f}")
    print("held-out: default settings; prior 0: no neighbour prior; bare: plain per-texel mean "
          "(no view weighting, no prior)")


def demo_section(n_frames, size):
    from pose_animate.synth import render_sequence

    import yaml

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    figure = config["demo"]["figures"].get("demo_target", {"seed": 1})
    params = {**figure, "n_frames": n_frames, "size": size}
    frames = list(render_sequence(**params))
    truth = [f.iuv for f in frames]
    print(f"\n== demo subject: {n_frames} frames of {size}x{size}, figure {figure} ==")
    print(f"{'variant':44s} {'part acc':>8s} {'U MAE':>7s} {'V MAE':>7s} {'fg IoU':>7s} "
          f"{'ms/frame':>8s}")
    results = {}
    for name, use_mask, layers in (("skeleton + exact masks", True, True),
                                   ("skeleton, capsule silhouette (no masks)", False, True),
                                   ("bare: nearest bone, no layers (+ masks)", True, False)):
        saved = dict(skeleton.LAYER)
        if not layers:
            skeleton.LAYER.update({k: 0 for k in saved})
        try:
            iuvs, ms = run_skeleton(frames, use_mask)
        finally:
            skeleton.LAYER.update(saved)
        m = mean_of([iuv_agreement(p, t) for p, t in zip(iuvs, truth)])
        results[name] = iuvs
        print(f"{name:44s} {m['part_accuracy']:8.3f} {m['u_mae']:7.3f} {m['v_mae']:7.3f} "
              f"{m['fg_iou']:7.3f} {ms:8.1f}")

    images = [f.image for f in frames]
    texture_table("demo subject", images,
                  [("exact IUV", truth),
                   ("skeleton IUV (exact masks)", results["skeleton + exact masks"]),
                   ("skeleton IUV (no masks)",
                    results["skeleton, capsule silhouette (no masks)"])])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "000000.png"
        start = time.perf_counter()
        for iuv in truth:
            write_iuv(path, *iuv)
            read_iuv(path)
        io_ms = 1000 * (time.perf_counter() - start) / len(truth)
    _, ms = run_skeleton(frames, True)
    print(f"\nspeed: skeleton {ms:.1f} ms/frame vs IUV PNG write+read {io_ms:.1f} ms/frame "
          f"(ratio {ms / io_ms:.1f}x) at {size}x{size}")


def subject_section(folder: Path):
    """Texture measures on a dataset folder the pipeline made (frames/ + densepose/)."""
    from pose_animate.core.formats import list_frames, read_image

    frames = list_frames(folder / "frames")
    images = [read_image(f) for f in frames]
    iuvs = [read_iuv(folder / "densepose" / f.name) for f in frames]
    texture_table(f"pipeline output {folder}", images, [("densepose/ (pipeline IUV)", iuvs)])


def h36m_section(realdata: Path):
    root = realdata / "keypoints_gt" / "h36m"
    if not (root / "BF_IUV_gt").is_dir():
        print("\n(h36m BF_IUV_gt absent: skipped)")
        return
    data = np.load(root / "test_h36m_body3d.npz", allow_pickle=True)
    names = [str(n) for n in data["imgname"]]
    maps, joints, images = [], [], []
    for path in sorted((root / "BF_IUV_gt").glob("*.png")):
        key = path.name.rsplit("_", 2)[0]
        k = next(i for i, n in enumerate(names) if key in n)
        maps.append(cv2.imread(str(path)))
        joints.append(data["part"][k])
        images.append(cv2.imread(str(root / names[k])))
    anchors = canonical_joints(maps, joints)
    from pose_animate.appearance.masks import MaskRefiner, iou

    refiner = MaskRefiner()
    print("\n== Human3.6M, 4 real frames (BF_IUV_gt; ground-truth 2D joints) ==")
    print(f"{'frame':34s} {'IoU caps':>8s} {'IoU mp':>7s} {'parts caps':>10s} {'parts mp':>8s}"
          f" {'parts gt':>8s}")
    rows = []
    for bf, kp, img, path in zip(maps, joints, images, sorted((root / "BF_IUV_gt").glob("*"))):
        person = h36m_to_body25(kp)
        truth_fg = bf[..., 0] > 0
        regions = region_map(bf, anchors)
        caps = skeleton.skeleton_iuv(person, img.shape[:2])
        mask = refiner(img, person[:25])
        with_mp = skeleton.skeleton_iuv(person, img.shape[:2], mask)
        with_gt = skeleton.skeleton_iuv(person, img.shape[:2], truth_fg.astype(np.uint8))
        row = [iou(caps[0] > 0, truth_fg), iou(mask > 0, truth_fg),
               region_agreement(caps[0], regions), region_agreement(with_mp[0], regions),
               region_agreement(with_gt[0], regions)]
        rows.append(row)
        print(f"{path.stem[:34]:34s} {row[0]:8.3f} {row[1]:7.3f} {row[2]:10.3f} {row[3]:8.3f} "
              f"{row[4]:8.3f}")
    m = np.mean(rows, axis=0)
    print(f"{'mean':34s} {m[0]:8.3f} {m[1]:7.3f} {m[2]:10.3f} {m[3]:8.3f} {m[4]:8.3f}")
    print("IoU caps: keypoint-capsule silhouette; IoU mp: the masks stage's mediapipe mask; "
          "parts: coarse part agreement (front/back merged) with caps / mp mask / true mask")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--realdata", type=Path, default=REPO.parent / "shared" / "realdata")
    ap.add_argument("--subject", type=Path, action="append", default=[],
                    help="a dataset folder (frames/, densepose/) to measure the texture on")
    args = ap.parse_args()
    demo_section(args.frames, args.size)
    for folder in args.subject:
        subject_section(folder)
    h36m_section(args.realdata)


if __name__ == "__main__":
    main()
