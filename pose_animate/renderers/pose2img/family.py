"""The `pose2img` family's declaration: a speaker's renderer from its frames and cleaned
keypoints (face and hands included); the source image is one of its training frames."""

from ..family import Family

POSE2IMG = Family(name="pose2img", scope="subject",
                  summary="Pose2Img: a source image's limb layers warped to 137 target "
                          "keypoints, fused into the upper body, face and hands",
                  needs=lambda settings: ("frames", "openpose_json"))
