"""The neural video rendering seed's folder (SunYangtian/Neural-Human-Video-Rendering, read by
its `data/aligned_dataset.py`), one subject per export:

    {name}/000000.png ...        the frames (the folder is named as the dataset)
    openpose_json/000000_keypoints.json   one person per file, in pixels of a 1024 x 1024 frame
    mask/000000.png              255 = person
    densepose/000000_IUV.png     I, U, V as cv2 reads it, at load_size x load_size
    flow/000000.flo              frame t -> t + 1, at load_size, in load_size pixels
    flow_inv/000000.flo          frame t + 1 -> t, likewise
    bg.jpg, texture.jpg          linked (its atlas convention is the pipeline's)
    train_flags.txt              the data flags of its train script for this folder, with the
                                 --loadSize the export was made for (IUV and flow fit only it)

Its loader pairs the folders by sorted position (names are never compared), resizes frames,
masks and the plate to a square load_size itself (linked as they are), but interpolates IUV part
indices and flow vectors without rescaling them (written at load_size), and reads keypoints
as pixels of a 1024 x 1024 frame (rescaled). A frame with nobody gets a person with every point
missing: the loader would otherwise reuse the previous frame's pose (or crash on the first).
"""

import numpy as np

from ..core.formats import frame_name, keypoints_name, openpose_dict, read_flo, read_iuv
from .source import Fit

SCOPE = "subject"
PARTS = ("frames", "openpose_json", "mask", "densepose", "flow", "flow_inv", "bg.jpg",
         "texture.jpg")
POSE_FRAME = 1024  # the loader's keypoint frame (oriH = oriW = 1024)


def write(job, out, settings, placer) -> dict:
    (subject,) = job.train
    n, (h, w) = len(subject), subject.size
    load = settings["load_size"]
    grid = Fit(h, w, load, load, stretch=True)
    for src in subject.frames:
        placer.place(src, out / job.name / src.name)
    for src in subject.listed("mask", ".png"):
        placer.place(src, out / "mask" / src.name)
    for t, src in enumerate(subject.listed("densepose", ".png")):
        dst = out / "densepose" / frame_name(t).replace(".png", "_IUV.png")
        placer.image_or_link(src, dst, None if grid.identity else lambda: grid.image(
            subject.check_size(src, _iuv_image(src)), nearest=True))
    for part in ("flow", "flow_inv"):
        for src in subject.listed(part, ".flo", count=n - 1):
            dst = out / part / src.name
            if grid.identity:
                placer.place(src, dst)
            else:
                placer.flo(dst, grid.flow(subject.check_size(src, read_flo(src))))
    pose = Fit(h, w, POSE_FRAME, POSE_FRAME, stretch=True)
    for t, person in enumerate(subject.keypoints()):
        placer.json(out / "openpose_json" / keypoints_name(t), openpose_dict([pose.points(person)]))
    for name in ("bg.jpg", "texture.jpg"):
        placer.place(subject.part(name), out / name)
    root = job.final
    flags = [("--img_path", root / job.name), ("--pose_path", root / "openpose_json"),
             ("--mask_path", root / "mask"), ("--densepose_path", root / "densepose"),
             ("--flow_path", root / "flow"), ("--flow_inv_path", root / "flow_inv"),
             ("--bg_path", root / "bg.jpg"), ("--texture_path", root / "texture.jpg"),
             ("--loadSize", load), ("--resize_or_crop", "resize")]
    placer.text(out / "train_flags.txt",
                " ".join(f"{k} {v}" for k, v in flags) + " --no_flip\n")
    return {"frames": n, "frame_size": [w, h], "load_size": load, "warnings": []}


def _iuv_image(path) -> np.ndarray:
    """The IUV PNG as cv2 reads it, checked by the one IUV reader."""
    parts, u, v = read_iuv(path)
    return np.dstack([parts, np.round(u * 255), np.round(v * 255)]).astype(np.uint8)
