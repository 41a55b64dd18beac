"""The `edn` family's declaration: a subject's renderer from its frames and cleaned keypoints,
with the background plate, the masks (extra L1 weight) and the IUV when its settings say so."""

from ..family import Family


def needs(settings: dict) -> tuple[str, ...]:
    parts = ["frames", "openpose_json"]
    if settings["use_background"]:
        parts.append("bg.jpg")
    if settings["mask_weight"] > 0:
        parts.append("mask")
    if settings["use_iuv"]:
        parts.append("densepose")
    return tuple(parts)


EDN = Family(name="edn", scope="subject",
             summary="Everybody Dance Now / pix2pixHD: pose map -> frame, temporally smoothed",
             needs=needs)
