"""What the training steps of families with a generator G and listed PARTS share: the
checkpoint state of those parts, the inference weights, and the step's autocast context."""

import torch


class PartsStep:
    """Mixed into a family's TrainStep that sets `PARTS` (its networks and optimizers, by
    attribute name), `G`, `device` and `amp_dtype`."""

    PARTS: tuple = ()

    def state(self) -> dict:
        return {name: getattr(self, name).state_dict() for name in self.PARTS}

    def load(self, state: dict) -> None:
        for name in self.PARTS:
            getattr(self, name).load_state_dict(state[name])

    def weights(self) -> dict:
        return self.G.state_dict()

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype,
                              enabled=self.amp_dtype is not None)
