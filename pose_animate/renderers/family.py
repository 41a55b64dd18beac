"""What a renderer family declares (no torch: the workflow reads it to wire its inputs)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The parts of a subject's dataset folder (results/subjects/{subject}/...), by their names there.
DATASET_PARTS = ("frames", "openpose_json", "mask", "densepose", "flow", "flow_inv", "bg.jpg",
                 "texture.jpg")
SCOPES = ("subject", "dataset")


@dataclass(frozen=True)
class Family:
    name: str
    # "subject": a renderer of one subject, evaluated on its held-out frames; "dataset": one
    # model learnt from a dataset's train subjects, evaluated on its test subjects.
    scope: str
    summary: str
    # The dataset-folder parts (DATASET_PARTS) the family reads, given its settings.
    needs: Callable[[dict], tuple[str, ...]]
    # The datasets (datasets:) its settings name, e.g. to pretrain on; checked with the plan.
    datasets_named: Callable[[dict], tuple[str, ...]] = lambda settings: ()

    def parts(self, settings: dict) -> tuple[str, ...]:
        parts = tuple(self.needs(settings))
        unknown = set(parts) - set(DATASET_PARTS)
        if unknown:
            raise ValueError(f"family {self.name} needs unknown dataset parts {unknown}")
        return parts


@dataclass
class Driving:
    """What drives one frame of a render or an evaluation.

    `person`: (137, 3) keypoints in the pixels of the model's subject frames (normalized
    driving keypoints, or a held-out frame's own), or None where nobody was found;
    `iuv`: that frame's IUV channels at the model's size, for models trained with them
    (evaluation only: a driving video has no IUV in the target's frame).
    """
    person: np.ndarray | None
    iuv: np.ndarray | None = None
