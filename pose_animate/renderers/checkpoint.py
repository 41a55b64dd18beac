"""The one file format of renderers: model files and training checkpoints.

Both are torch pickles of a dict with `format`, `family` and `spec` (every model-defining
setting: preset, architecture, inputs), so that render and evaluate rebuild a model from its
file alone, a model file of another family is refused with a clear error, and training never
continues a checkpoint of another preset or other inputs.

- model file (`results/models/{family}/{name}/model.pt`): + `weights` (the inference networks'
  state dict), `extras` (what inference needs beside them: frame size, background plate,
  training frames, the dataset parts read), `name`, `step`, `record`;
- training checkpoint (`checkpoints/step_NNNNNN.pt` in the run folder): + `train` (every
  network and optimizer state of the family's training step), `data` (the dataset signature),
  `settings` (the training settings), `step`, `history`, `rng`.

`resumable` says which checkpoint a run may continue (see there): interrupted runs resume,
and no setting change is ever ignored.
"""

import shutil
from pathlib import Path

import torch

from ..core.atomic import atomic_file
from ..core.errors import PoseAnimateError
from ..core.runlog import log

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


def listed(folder) -> list[Path]:
    """A run folder's training checkpoints, oldest first."""
    return sorted(Path(folder).glob("step_*.pt"))


def latest(folder) -> Path | None:
    found = listed(folder)
    return found[-1] if found else None


# Settings that only say how long and how a run goes: any other change is another model.
# (A run may resume with another number of GPUs: its global batch changes from there on.)
RUN_ONLY = ("steps", "checkpoint_every", "keep_checkpoints", "log_every", "workers", "device",
            "gpus")


def training_settings(settings: dict) -> dict:
    """The settings that define what a run learns (every one but RUN_ONLY)."""
    return {k: v for k, v in settings.items() if k not in RUN_ONLY}


def step_of(path) -> int:
    return int(Path(path).stem.split("_")[1])


def resumable(folder, family: str, spec: dict, data: str, settings: dict):
    """(state, path) of the checkpoint a run may continue, or None to start afresh.

    A run continues a checkpoint only when the family, the spec (preset, architecture,
    inputs), the dataset signature and the training settings are those of the checkpoint, and
    the checkpoint is not past the wanted step count (a longer run continues a shorter one;
    a shorter one continues the latest checkpoint at or before its end). Anything else starts
    afresh, saying why; the old checkpoints move to `previous/` (the last such set is kept),
    so no training is lost to a mistaken setting.
    """
    folder = Path(folder)
    found = listed(folder)
    if not found:
        return None
    last = found[-1]
    state = load(last, family)
    if state.get("spec") != spec:
        reason = _difference("model", state.get("spec", {}), spec)
    elif state.get("data") != data:
        reason = "the dataset (frames, keypoints or the other parts it reads) changed"
    elif state.get("settings") != training_settings(settings):
        reason = _difference("training settings", state.get("settings") or {},
                             training_settings(settings))
    else:
        usable = [p for p in found if step_of(p) <= settings["steps"]]
        if usable:
            if usable[-1] != last:
                state = load(usable[-1], family)
            if state["step"] == settings["steps"]:
                log.info("%s already holds all %d steps with these settings and data: the "
                         "model is written from it (delete %s to train again)", usable[-1],
                         state["step"], folder.parent)
            return state, usable[-1]
        reason = (f"its checkpoints are past the {settings['steps']} steps asked for (the "
                  f"latest is step {step_of(last)})")
    previous = folder / "previous"
    shutil.rmtree(previous, ignore_errors=True)
    previous.mkdir(parents=True)
    for path in found:
        path.rename(previous / path.name)
    log.warning("not resuming %s: %s. Training from scratch; the old checkpoints are in %s.",
                last, reason, previous)
    return None


def _difference(what: str, saved: dict, wanted: dict) -> str:
    keys = sorted(set(saved) | set(wanted), key=str)
    changed = [f"{k} {saved.get(k)!r} -> {wanted.get(k)!r}" for k in keys
               if saved.get(k) != wanted.get(k)]
    return f"the {what} changed ({'; '.join(changed)[:400]})"
