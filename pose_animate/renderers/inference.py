"""A trained model rebuilt from its file alone (nanoGPT's sample.py way): the checkpoint names
its family and spec, the family's model module builds the networks and the inference step.
Nothing of the training engine is imported here."""

from pathlib import Path

from ..core.errors import PoseAnimateError
from . import checkpoint
from .device import pick_device
from .d2g import model as d2g_model
from .edn import model as edn_model
from .gfla import model as gfla_model
from .pose2img import model as pose2img_model

# per family: its model module
MODELS = {"edn": edn_model, "d2g": d2g_model, "pose2img": pose2img_model,
          "gfla": gfla_model}


def load_model(model_path, device: str = "auto", family: str | None = None):
    """(the model file's state, its family's Animator ready on `device`)."""
    state = checkpoint.load(model_path, family)
    if state["family"] not in MODELS:
        raise PoseAnimateError(f"a model of the unknown family '{state['family']}'.",
                               path=model_path, fix=f"families known: {', '.join(MODELS)}.")
    try:
        animator = MODELS[state["family"]].Animator(state["spec"], state["weights"],
                                                    state["extras"], pick_device(device))
    except RuntimeError as exc:  # state-dict keys or shapes that do not fit the spec
        raise PoseAnimateError(f"the weights do not fit the {state['family']} preset "
                               f"'{state['spec'].get('preset')}' ({str(exc)[:200]}).",
                               path=Path(model_path), fix="retrain: the model file is corrupt "
                                                          "or edited.")
    return state, animator
