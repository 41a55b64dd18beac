"""Where a renderer runs: the device, and the precision and memory layout used there."""

import torch

from ..core.errors import PoseAnimateError


def pick_device(setting: str = "auto") -> torch.device:
    """`auto`: the visible CUDA device (the job's GPU, see pose_animate.core.devices), else
    the CPU."""
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise PoseAnimateError("the family's device is 'cuda' but torch sees no CUDA device.",
                               fix="set device: auto (or cpu) in its families section, or "
                                   "install a CUDA build of torch on a GPU machine.")
    return torch.device("cuda")


def autocast_dtype(device_type: str, bf16_supported: bool):
    """bf16 on a CUDA device that has it, else None (fp32: CPUs and older GPUs)."""
    return torch.bfloat16 if device_type == "cuda" and bf16_supported else None


def memory_format(device: torch.device):
    """channels_last on CUDA (faster convolutions with tensor cores), contiguous elsewhere."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format
