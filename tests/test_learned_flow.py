"""The learned flow methods in the flow stage (pose_animate/appearance/learned_flow.py) without
the published weights: checkpoint reading and its errors, padding, and the stage's files.

What is tested where: the networks' layers and key layouts in test_raft.py and
test_flownet2.py; here the path around them. The stage runs the real RAFT network from a
checkpoint file in the authors' layout whose weights are set to a known constant motion (the
flow head's bias), and, for the pair bookkeeping (both directions, batches, cropping) an exact
shift finder put in the network's place. No test trains a network to a known shift."""

import numpy as np
import pytest
import torch

from pose_animate.appearance import learned_flow, raft
from pose_animate.appearance.flow import compute_flow
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import frame_name, read_flo, read_image, write_image


def _raft_small_checkpoint(path, bias=(0.0, 0.0), wrap=None):
    """A RAFT-small checkpoint as the authors save theirs (DataParallel's `module.` prefix);
    with the flow head's last layer zeroed but for `bias`, a network that moves every pixel
    by 8 * iterations * bias."""
    net = raft.RAFT("small")
    with torch.no_grad():
        net.update_block.flow_head.conv2.weight.zero_()
        net.update_block.flow_head.conv2.bias.copy_(torch.tensor(bias))
    state = {f"module.{k}": v for k, v in net.state_dict().items()}
    torch.save({wrap: state} if wrap else state, path)
    return path


def _texture_frames(folder, n=5, shift=(3, 2), size=(72, 88)):
    """`n` frames of a smooth random texture, each moved by `shift` (dx, dy) pixels."""
    rng = np.random.default_rng(0)
    big = rng.integers(0, 255, (size[0] + 64, size[1] + 64, 3)).astype(np.uint8)
    big = np.ascontiguousarray(np.repeat(np.repeat(big[::4, ::4], 4, 0), 4, 1))
    folder.mkdir()
    for t in range(n):
        y0, x0 = 32 - t * shift[1], 32 - t * shift[0]
        write_image(folder / frame_name(t), big[y0:y0 + size[0], x0:x0 + size[1]])
    return folder


def _flow_settings(**values):
    return settings("flow", values)


def test_padding_repeats_the_border_centred_and_crops_back():
    images = torch.arange(2 * 3 * 5 * 7, dtype=torch.float32).view(2, 3, 5, 7)
    padded, pads = learned_flow.pad_to(images, 8)
    assert padded.shape == (2, 3, 8, 8) and pads == (0, 1, 1, 2)
    assert torch.equal(padded[..., 0, :7], images[..., 0, :])  # the top row repeated
    assert torch.equal(learned_flow.crop(padded, pads), images)
    same, none = learned_flow.pad_to(torch.zeros(2, 3, 4, 8), 4)
    assert none == (0, 0, 0, 0) and same.shape == (2, 3, 4, 8)
    big, pads = learned_flow.pad_to(torch.zeros(1, 3, 100, 130), 64)
    assert big.shape[-2:] == (128, 192) and learned_flow.crop(big, pads).shape[-2:] == (100, 130)
    small, pads = learned_flow.pad_to(torch.zeros(1, 3, 50, 70), 8, minimum=128)
    assert small.shape[-2:] == (128, 128) and pads == (29, 29, 39, 39)


@pytest.mark.parametrize("wrap", [None, "state_dict", "model"])
def test_a_checkpoint_is_read_bare_or_wrapped_and_without_dataparallel_prefixes(tmp_path, wrap):
    path = _raft_small_checkpoint(tmp_path / "raft-small.pth", wrap=wrap)
    state = learned_flow.read_state_dict(path)
    assert set(state) == set(raft.published_keys("small"))
    network, name = learned_flow.build_network("raft", state, path)
    assert name == "raft-small" and not network.training


def test_a_truncated_or_foreign_file_is_an_error_naming_flow_checkpoint(tmp_path):
    path = _raft_small_checkpoint(tmp_path / "raft-small.pth")
    cut = tmp_path / "cut.pth"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    for bad in (cut, tmp_path / "text.pth"):
        if bad.name == "text.pth":
            bad.write_text("not weights")
        with pytest.raises(PoseAnimateError, match="flow.checkpoint cannot be read") as err:
            learned_flow.read_state_dict(bad)
        assert "truncated" in str(err.value)
    torch.save({"epoch": 3, "note": "no tensors"}, tmp_path / "empty.pth")
    with pytest.raises(PoseAnimateError, match="holds no state dict"):
        learned_flow.read_state_dict(tmp_path / "empty.pth")


def test_a_checkpoint_of_another_network_or_with_keys_missing_is_refused(tmp_path):
    path = tmp_path / "raft-small.pth"
    state = learned_flow.read_state_dict(_raft_small_checkpoint(path))
    with pytest.raises(PoseAnimateError, match="not a published flownet2 checkpoint") as err:
        learned_flow.build_network("flownet2", state, path)
    assert "looks like a raft checkpoint: set flow.method: raft" in str(err.value)
    del state["update_block.flow_head.conv1.bias"]
    state["fnet.extra.weight"] = torch.zeros(1)
    with pytest.raises(PoseAnimateError, match="1 missing .*update_block.flow_head.conv1.bias"
                                               ".*1 unexpected .*fnet.extra.weight"):
        learned_flow.build_network("raft", state, path)
    state = learned_flow.read_state_dict(path)
    state["fnet.conv1.weight"] = torch.zeros(3, 3, 3, 3)
    with pytest.raises(PoseAnimateError, match="1 of another shape .*fnet.conv1.weight"):
        learned_flow.build_network("raft", state, path)


def test_a_network_goes_with_the_learned_methods_only(tmp_path):
    frames = _texture_frames(tmp_path / "frames", n=2)
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="a LearnedFlow goes with"):
        compute_flow(frames, out / "f", out / "b", out / "v", _flow_settings(method="raft"))
    assert not out.exists()


def test_a_missing_checkpoint_names_the_key(tmp_path):
    for value, message in ((None, "flow.checkpoint is not set"),
                           (str(tmp_path / "no.pth"), "flow.checkpoint is '")):
        with pytest.raises(PoseAnimateError, match=message):
            learned_flow.LearnedFlow(_flow_settings(method="raft", checkpoint=value))


def test_the_stage_runs_the_published_layout_raft_and_writes_its_motion(tmp_path):
    frames = _texture_frames(tmp_path / "frames", n=4)
    ckpt = _raft_small_checkpoint(tmp_path / "raft-small.pth", bias=(0.125, -0.0625))
    cfg = _flow_settings(method="raft", checkpoint=str(ckpt), iterations=3, batch_size=2)
    out = tmp_path / "out"
    record = compute_flow(frames, out / "flow", out / "flow_inv", out / "valid", cfg,
                          network=learned_flow.LearnedFlow(cfg))
    assert record["network"] == {"name": "raft-small", "checkpoint": str(ckpt),
                                 "iterations": 3, "device": "cpu", "precision": "fp32",
                                 "batch_size": 2}
    assert record["pairs"] == 3 and record["backend"] == "raft"
    for t in range(3):
        for folder in ("flow", "flow_inv"):  # this network moves everything the same way
            flow = read_flo(out / folder / frame_name(t, ".flo"))
            assert flow.shape == (72, 88, 2)
            assert np.allclose(flow[..., 0], 3.0) and np.allclose(flow[..., 1], -1.5)
        valid = read_image(out / "valid" / "fwd" / frame_name(t), 0)
        assert valid.shape == (72, 88) and not valid.any()  # forward and back disagree


class ShiftFinder(torch.nn.Module):
    """Stands in for a network in the tests: the integer global shift (within 6 px) that
    best maps image1 onto image2, as a constant flow. Exact on a translated texture."""

    def forward(self, image1, image2, iterations=None):
        b, _, h, w = image1.shape
        flows = []
        for a, c in zip(image1, image2):
            errors = {}
            for dy in range(-6, 7):
                for dx in range(-6, 7):
                    moved = torch.roll(a, (dy, dx), (1, 2))[:, 8:-8, 8:-8]
                    errors[(dx, dy)] = float((moved - c[:, 8:-8, 8:-8]).abs().mean())
            dx, dy = min(errors, key=errors.get)
            flows.append(torch.tensor([dx, dy], dtype=torch.float32).view(2, 1, 1)
                         .expand(2, h, w))
        return torch.stack(flows)


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_pairs_run_both_ways_in_batches_and_come_back_in_order(tmp_path, monkeypatch,
                                                               batch_size):
    frames = _texture_frames(tmp_path / "frames", n=6, shift=(3, -2), size=(70, 90))
    ckpt = _raft_small_checkpoint(tmp_path / "raft-small.pth")
    monkeypatch.setattr(learned_flow, "build_network",
                        lambda method, state, path: (ShiftFinder(), "shift finder"))
    cfg = _flow_settings(method="raft", checkpoint=str(ckpt), batch_size=batch_size)
    out = tmp_path / "out"
    record = compute_flow(frames, out / "flow", out / "flow_inv", out / "valid", cfg,
                          network=learned_flow.LearnedFlow(cfg))
    assert sorted(p.name for p in (out / "flow").iterdir()) == \
        [frame_name(t, ".flo") for t in range(5)]
    for t in range(5):
        fwd = read_flo(out / "flow" / frame_name(t, ".flo"))
        bwd = read_flo(out / "flow_inv" / frame_name(t, ".flo"))
        assert fwd.shape == (70, 90, 2)
        assert np.all(fwd == [3, -2]) and np.all(bwd == [-3, 2])
    # consistent everywhere but where the motion leaves the frame
    assert 0.9 < record["valid_fraction_fwd"] < 1.0
