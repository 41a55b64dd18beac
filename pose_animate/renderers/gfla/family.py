"""The `gfla` family's declaration: one model learnt from a dataset's train subjects (their
frames and cleaned keypoints, and the DensePose parts and background plate its prior is made
of), evaluated on its test subjects, people it never saw."""

from ..family import Family

GFLA = Family(name="gfla", scope="dataset",
              summary="GFLA: a reference image's features moved to a target pose by global "
                      "flow fields and local attention, frame by frame",
              needs=lambda settings: ("frames", "openpose_json", "densepose", "bg.jpg"))
