"""Write a demo clip and its ground truth to disk: `write_demo` (the tests and
`python -m pose_animate.synth` use it) and `demo_video`, the demo_video stage."""

import time
from pathlib import Path

from ..core.atomic import atomic_dir
from ..core.formats import (frame_name, keypoints_name, write_flo, write_image, write_iuv,
                       write_json, write_openpose)
from ..core.runlog import log, progress
from ..core.videoio import VideoWriter
from .sequence import Scene, scene_frames

TRUTH_FOLDERS = ("frames", "keypoints", "mask", "iuv", "flow", "flow_inv")
CONVENTIONS = {
    "pixel_centres": "pixel (col x, row y) has its centre at (x, y), the keypoints' coordinates",
    "truth": "mask and IUV are the part on top at each pixel centre (no anti-aliasing); the "
             "frames are the atlas sampled at the IUV (texture.png, nearest texel) over "
             "background.png",
    "shading": "baked into texture.png (no separate shading term)",
    "keypoints": "exact; confidence 1 for every BODY_25, face and hand point (occluded too)",
    "flow": "flow/t maps frame t to t+1, flow_inv/t maps t+1 to t; exact for the rigid parts",
    "video": "video.mp4 is the same frames, H.264 at the given crf (lossy); frames/ is exact",
}


def write_demo(out_dir, crf: int = 14, **params) -> dict:
    """Render a demo clip into `out_dir`: `video.mp4` and `truth/` (see the package doc).

    Both appear only when complete. Returns the meta.json content.
    """
    out_dir = Path(out_dir)
    scene = Scene(**params)
    n = scene.params["n_frames"]
    meta = dict(scene.describe(), fps=scene.fps, size=scene.size, n_frames=n,
                crf=crf, conventions=CONVENTIONS)
    start = time.perf_counter()
    with atomic_dir(out_dir / "truth") as truth:
        for name in TRUTH_FOLDERS:
            (truth / name).mkdir()
        write_image(truth / "texture.png", scene.atlas)
        write_image(truth / "background.png", scene.background_at(0))
        with VideoWriter(out_dir / "video.mp4", scene.fps, crf=crf) as video:
            for f in progress(scene_frames(scene), total=n, desc="demo frames"):
                video.write(f.image)
                t = f.index
                write_image(truth / "frames" / frame_name(t), f.image)
                write_image(truth / "mask" / frame_name(t), f.mask)
                write_iuv(truth / "iuv" / frame_name(t), *f.iuv)
                write_openpose(truth / "keypoints" / keypoints_name(t), [f.keypoints])
                if f.flow is not None:
                    write_flo(truth / "flow" / frame_name(t, ".flo"), f.flow)
                    write_flo(truth / "flow_inv" / frame_name(t, ".flo"), f.flow_inv)
            write_json(truth / "meta.json", meta)
    log.info("demo: %d frames %dx%d at %g fps in %.1f s -> %s", n, scene.size, scene.size,
             scene.fps, time.perf_counter() - start, out_dir)
    return meta


def demo_video(video, truth, settings: dict) -> dict:
    """The demo_video stage: `video` ({dir}/video.mp4) and `truth` ({dir}/truth) of one demo
    figure; `settings` is its entry of the config's `demo.figures` (the generator's
    parameters, see sequence.DEFAULTS). Returns the truth's meta.json content."""
    out_dir = Path(video).parent
    if Path(video).name != "video.mp4" or Path(truth) != out_dir / "truth":
        raise ValueError(f"write_demo writes {{dir}}/video.mp4 and {{dir}}/truth, not {video} "
                         f"and {truth}")
    return write_demo(out_dir, **settings)
