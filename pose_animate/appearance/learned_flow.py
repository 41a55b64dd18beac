"""Learned optical flow for the flow stage (`flow.method: raft` or `flownet2`), from the
published weights on local disk (`flow.checkpoint`; nothing is downloaded).

Frame pairs go through the network in batches, each pair both ways in the same pass (t -> t+1
and t+1 -> t), padded to the network's multiple by repeating the border and cropped back.
On a GPU (the job's, see pose_animate.core.devices) `flow.precision` may run the network
under bf16 or fp16 autocast; on the CPU it runs in float32, slowly, with the stage's progress
bar.
"""

import pickle
import zipfile

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..core.errors import PoseAnimateError
from ..core.runlog import log
from . import flownet2, raft
from .flow import WEIGHTS, check_checkpoint

_PRECISIONS = {"bf16": torch.bfloat16, "fp16": torch.float16}
_SHOWN = 4  # key names quoted in an error


def read_state_dict(path) -> dict:
    """The tensors of a checkpoint file: a bare state dict, or one under 'state_dict' (the
    flownet2-pytorch .pth.tar) or 'model'; DataParallel's `module.` prefixes removed."""
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile,
            ValueError) as exc:
        raise PoseAnimateError(
            f"flow.checkpoint cannot be read as a PyTorch checkpoint ({exc}).", path=path,
            fix="the file may be truncated or not a checkpoint: copy it again "
                "(compare its size with the published file's).") from exc
    for wrapper in ("state_dict", "model"):
        if isinstance(blob, dict) and isinstance(blob.get(wrapper), dict):
            blob = blob[wrapper]
    if not isinstance(blob, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in blob.values()):
        raise PoseAnimateError("flow.checkpoint holds no state dict of tensors.", path=path,
                               fix="point flow.checkpoint at the published weights file.")
    return {k.removeprefix("module."): v for k, v in blob.items()}


def build_network(method: str, state: dict, path) -> tuple[torch.nn.Module, str]:
    """(the network with the checkpoint's weights, its name for the record); an error
    naming flow.checkpoint when the weights are not that network's published layout."""
    if method == "raft":
        state, variant = raft.published_to_model(state)
        network, name, expected = raft.RAFT(variant), f"raft-{variant}", \
            raft.published_keys(variant)
    else:
        state = flownet2.published_to_model(state)
        network, name, expected = flownet2.FlowNet2(), "flownet2", flownet2.PUBLISHED_KEYS
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state)
                   if tuple(state[k].shape) != tuple(expected[k]))
    if missing or unexpected or wrong:
        other = _looks_like(state)
        hint = (f"it looks like a {other} checkpoint: set flow.method: {other}, or "
                if other and other != method else "")
        problems = "; ".join(f"{len(keys)} {what} (e.g. {', '.join(keys[:_SHOWN])})"
                             for what, keys in (("missing", missing),
                                                ("unexpected", unexpected),
                                                ("of another shape", wrong)) if keys)
        raise PoseAnimateError(
            f"flow.checkpoint is not a published {method} checkpoint: {problems} keys.",
            path=path, fix=f"{hint}point flow.checkpoint at {WEIGHTS[method]}.")
    network.load_state_dict(state, strict=True)
    return network.eval(), name


def _looks_like(state: dict) -> str | None:
    if any(k.startswith(("flownetc.", "flownets_1.")) for k in state):
        return "flownet2"
    if any(k.startswith(("fnet.", "feature_encoder.")) for k in state):
        return "raft"
    return None


def pad_to(images: torch.Tensor, multiple: int, minimum: int = 0) -> tuple[torch.Tensor, tuple]:
    """(images padded to H, W multiples of `multiple`, at least `minimum`, by repeating the
    border, centred as RAFT's InputPadder; the (left, right, top, bottom) padding for
    `crop`)."""
    h, w = images.shape[-2:]
    ph, pw = (max(-n % multiple, minimum - n) for n in (h, w))
    ph, pw = ph + -(h + ph) % multiple, pw + -(w + pw) % multiple
    pads = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    return (F.pad(images, pads, mode="replicate") if any(pads) else images), pads


def crop(tensor: torch.Tensor, pads: tuple) -> torch.Tensor:
    left, right, top, bottom = pads
    h, w = tensor.shape[-2:]
    return tensor[..., top:h - bottom, left:w - right]


class LearnedFlow:
    """The flow stage's network: `pairs(frames)` -> [(forward, backward)] (H, W, 2) float32
    for consecutive BGR frames, frames[i] -> frames[i+1] and back."""

    def __init__(self, settings: dict, device: torch.device | None = None):
        method = settings["method"]
        path = check_checkpoint(settings)
        self.device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
        network, self.name = build_network(method, read_state_dict(path), path)
        self.network = network.to(self.device)
        self.multiple = raft.MULTIPLE if method == "raft" else flownet2.MULTIPLE
        self.minimum = raft.MIN_SIZE if method == "raft" else flownet2.MULTIPLE
        self.iterations = settings["iterations"] if method == "raft" else None
        self.batch = settings["batch_size"]
        cuda = self.device.type == "cuda"
        self.precision = settings["precision"] if cuda else "fp32"
        if settings["precision"] != "fp32" and not cuda:
            log.info("flow: %s runs on the CPU in fp32 (flow.precision %s applies on a GPU)",
                     self.name, settings["precision"])
        if not cuda:
            log.warning("flow: no GPU for %s: running on the CPU, which is slow", self.name)

    @torch.inference_mode()
    def pairs(self, frames: list) -> list:
        """[(forward, backward)] for each consecutive pair of `frames` (BGR uint8, at most
        batch_size + 1 of them), all in one pass of the network."""
        rgb = [torch.from_numpy(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames]
        images = torch.stack(rgb).permute(0, 3, 1, 2).float().to(self.device)
        first, second = images[:-1], images[1:]
        flows = self._run(torch.cat([first, second]), torch.cat([second, first]))
        n = len(first)
        return [(flows[k], flows[n + k]) for k in range(n)]

    def _run(self, image1, image2) -> np.ndarray:
        (image1, pads), (image2, _) = (pad_to(images, self.multiple, self.minimum)
                                       for images in (image1, image2))
        kwargs = {"iterations": self.iterations} if self.iterations else {}
        try:
            with torch.autocast(self.device.type, dtype=_PRECISIONS.get(self.precision),
                                enabled=self.precision != "fp32"):
                flow = self.network(image1, image2, **kwargs)
        except torch.cuda.OutOfMemoryError:
            raise PoseAnimateError(
                f"the GPU ran out of memory running {self.name} on "
                f"{len(image1) // 2} pairs of {image1.shape[-1]}x{image1.shape[-2]} px.",
                fix=f"lower flow.batch_size (now {self.batch}).") from None
        flow = crop(flow.float(), pads).permute(0, 2, 3, 1)
        return np.ascontiguousarray(flow.cpu().numpy())
