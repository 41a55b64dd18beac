"""The `d2g` family's declaration: a subject's renderer that reads all of its dataset folder
(frames, cleaned keypoints, masks, IUV, forward and backward flow, the plate and the texture)."""

from ..family import Family


def needs(settings: dict) -> tuple[str, ...]:
    if settings.get("surface_only"):  # TransG's pretraining reads poses and IUV only
        return ("frames", "openpose_json", "densepose")
    return ("frames", "openpose_json", "mask", "densepose", "flow", "flow_inv", "bg.jpg",
            "texture.jpg")


def pretrain_dataset(settings: dict) -> tuple[str, ...]:
    """The dataset TransG is pretrained on (families.d2g.transg_pretrain), if any."""
    dataset = settings["transg_pretrain"]["dataset"]
    return (dataset,) if dataset else ()


D2G = Family(name="d2g", scope="subject",
             summary="D2G-Net neural video rendering: pose -> IUV -> neural texture -> dynamic "
                     "details, temporally coherent through flow",
             needs=needs, datasets_named=pretrain_dataset)
