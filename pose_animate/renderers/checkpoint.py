"""The one file format of renderers: model files and training checkpoints.

Both are torch pickles of a dict with `format`, `family` and `spec` (every model-defining
setting: preset, architecture, inputs), so that render and evaluate rebuild a model from its
file alone and a checkpoint of another family, preset or inputs is refused with a clear error
before any tensor shape mismatch.

- model file (`results/models/{family}/{name}/model.pt`): + `weights` (the inference networks'
  state dict), `extras` (what inference needs beside them: frame size, background plate,
  training frames, the dataset parts read), `name`, `step`, `record`;
- training checkpoint (`checkpoints/step_NNNNNN.pt` in the run folder): + `train` (every
  network and optimizer state of the family's training step), `data` (the dataset signature),
  `step`, `history`, `rng`.
"""

from pathlib import Path

import torch

from ..core.atomic import atomic_file
from ..core.errors import PoseAnimateError

FORMAT = 2  # 2: files name their family (format 1, before renderer families, did not)


def save(path, state: dict) -> None:
    with atomic_file(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load(path, family: str | None = None) -> dict:
    """Read a model file or checkpoint; with `family`, refuse one of another family."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as exc:
        raise PoseAnimateError(f"cannot read the checkpoint ({exc}).", path=path,
                               fix="delete it; training resumes from the one before it.")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        older = isinstance(state, dict) and state.get("format") == 1
        raise PoseAnimateError(
            "a model file of pose_animate before renderer families." if older else
            "not a pose_animate renderer checkpoint (or of another format).", path=path,
            fix="delete it and train again (models now live in "
                "results/models/{family}/{subject or dataset}/).")
    if family is not None and state.get("family") != family:
        raise PoseAnimateError(
            f"a checkpoint of the '{state.get('family')}' family where a '{family}' model "
            "is expected.", path=path,
            fix=f"give a {family} model file, or delete this one so that {family} trains "
                "afresh.")
    return state


def latest(folder) -> Path | None:
    found = sorted(Path(folder).glob("step_*.pt"))
    return found[-1] if found else None


def check_spec(saved: dict, wanted: dict, family: str, path) -> None:
    """Raise a clear error when a checkpoint was made with another preset or other inputs."""
    section = f"families.{family}"
    if saved.get("preset") != wanted["preset"] or saved.get("arch") != wanted["arch"]:
        diff = {k: (saved.get("arch", {}).get(k), v) for k, v in wanted["arch"].items()
                if saved.get("arch", {}).get(k) != v}
        raise PoseAnimateError(
            f"checkpoint was trained with preset '{saved.get('preset')}' but the config asks "
            f"for preset '{wanted['preset']}' (differences, saved vs wanted: {diff}).", path=path,
            fix=f"set {section}.preset: {saved.get('preset')} to continue with it, or delete "
                f"{Path(path).parent} to train the new preset from scratch.")
    if saved.get("inputs") != wanted["inputs"]:
        raise PoseAnimateError(
            f"checkpoint was trained on inputs {saved.get('inputs')} but the config gives "
            f"{wanted['inputs']}.", path=path,
            fix=f"restore the inputs in {section} as they were (use_background, use_iuv, "
                "size), or delete the checkpoint folder to train from scratch.")
