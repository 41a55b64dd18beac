"""RAFT (pose_animate/appearance/raft.py) without its weights: the published checkpoints' key
layouts and parameter counts, the correlation lookup and the convex upsampling against naive
references, and a forward pass."""

import numpy as np
import pytest
import torch

from pose_animate.appearance import raft


@pytest.mark.parametrize("variant", ["large", "small"])
def test_the_network_has_exactly_the_published_keys_shapes_and_parameter_count(variant):
    net = raft.RAFT(variant)
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert ours == raft.published_keys(variant)
    assert sum(p.numel() for p in net.parameters()) == raft.PUBLISHED_PARAMETERS[variant]


@pytest.mark.parametrize("variant", ["large", "small"])
def test_an_authors_checkpoint_loads_strictly_and_tells_its_variant(variant):
    published = {k: torch.randn(s) if s else torch.tensor(3)
                 for k, s in raft.published_keys(variant).items()}
    state, found = raft.published_to_model(published)
    assert found == variant
    raft.RAFT(variant).load_state_dict(state, strict=True)


@pytest.mark.parametrize("variant", ["large", "small"])
def test_torchvisions_layout_is_renamed_onto_the_same_tensors(variant):
    tv = {k: torch.randn(s) if s else torch.tensor(3)
          for k, s in raft.published_keys(variant, "torchvision").items()}
    state, found = raft.published_to_model(tv)
    assert found == variant
    net = raft.RAFT(variant)
    net.load_state_dict(state, strict=True)
    gru = "convgru2.convz" if variant == "large" else "convgru1.convz"
    ours = "convz2" if variant == "large" else "convz"
    assert torch.equal(getattr(net.update_block.gru, ours).weight,
                       tv[f"update_block.recurrent_block.{gru}.weight"])
    assert torch.equal(net.fnet.conv2.weight, tv["feature_encoder.conv.weight"])
    assert torch.equal(net.update_block.encoder.convf1.weight,
                       tv["update_block.motion_encoder.convflow1.0.weight"])
    if variant == "large":  # the aliased batch norm gets the one stored copy
        assert torch.equal(net.cnet.layer2[0].norm3.running_mean,
                           tv["context_encoder.layer2.0.downsample.1.running_mean"])
        assert torch.equal(net.update_block.mask[2].weight, tv["mask_predictor.conv.weight"])
        assert torch.equal(net.cnet.norm1.weight, tv["context_encoder.convnormrelu.1.weight"])


def _bilinear(img, x, y):
    """Zero-padded bilinear sample of a 2-D array at (x, y)."""
    h, w = img.shape
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    total = 0.0
    for xi, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
        for yi, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
            if 0 <= xi < w and 0 <= yi < h:
                total += wx * wy * img[yi, xi]
    return total


def test_the_lookup_samples_each_level_around_the_flow_in_the_authors_channel_order():
    gen = torch.Generator().manual_seed(0)
    b, c, h, w, r = 1, 8, 6, 8, 2
    f1, f2 = torch.randn(b, c, h, w, generator=gen), torch.randn(b, c, h, w, generator=gen)
    pyramid = raft.correlation_pyramid(f1, f2, levels=2)
    coords = raft.pixel_grid(b, h, w) + 3 * torch.randn(b, 2, h, w, generator=gen)
    out = raft.lookup(pyramid, coords, r).numpy()
    side = 2 * r + 1
    assert out.shape == (b, 2 * side ** 2, h, w)
    full = (np.einsum("cij,ckl->ijkl", f1[0].numpy(), f2[0].numpy()) / np.sqrt(c))
    for (i, j) in [(0, 0), (2, 5), (5, 7), (3, 1)]:
        volume = full[i, j]
        coarse = volume.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
        x, y = coords[0, :, i, j].numpy()
        for level, vol in ((0, volume), (1, coarse)):
            for a in range(side):  # outer: x offset
                for bb in range(side):  # inner: y offset
                    want = _bilinear(vol, x / 2 ** level + a - r, y / 2 ** level + bb - r)
                    got = out[0, level * side ** 2 + a * side + bb, i, j]
                    assert got == pytest.approx(want, abs=1e-4)


def test_convex_upsampling_combines_the_masked_neighbour_and_keeps_a_constant_flow():
    gen = torch.Generator().manual_seed(1)
    flow = torch.randn(1, 2, 3, 4, generator=gen)
    mask = torch.full((1, 9, 8, 8, 3, 4), -50.0)
    mask[:, 1] = 50.0  # neighbour 1 of the 3x3 window: the coarse pixel above
    fine = raft.convex_upsample(flow, mask.view(1, 9 * 64, 3, 4))
    assert fine.shape == (1, 2, 24, 32)
    for i, j, di, dj in [(1, 0, 0, 0), (2, 3, 7, 5), (1, 2, 3, 6)]:
        want = 8 * flow[0, :, i - 1, j]
        assert torch.allclose(fine[0, :, 8 * i + di, 8 * j + dj], want, atol=1e-4)
    constant = torch.ones(1, 2, 3, 4) * torch.tensor([1.5, -2.0]).view(1, 2, 1, 1)
    random_mask = torch.randn(1, 9 * 64, 3, 4, generator=gen)
    fine = raft.convex_upsample(constant, random_mask)
    inner = fine[0, :, 8:16, 8:24]  # away from the zero-padded border
    assert torch.allclose(inner, 8 * constant[0, :, :1, :1].expand_as(inner), atol=1e-5)


@pytest.mark.parametrize("variant", ["large", "small"])
def test_a_forward_pass_gives_a_full_resolution_flow(variant):
    net = raft.RAFT(variant).eval()
    a = torch.rand(2, 3, 64, 96) * 255
    with torch.no_grad():
        flow = net(a, a.flip(-1), iterations=3)
    assert flow.shape == (2, 2, 64, 96) and flow.dtype == torch.float32
    assert torch.isfinite(flow).all()
    with pytest.raises(ValueError, match="divisible by 8"):
        net(a[..., :60], a[..., :60])


def test_a_constant_update_accumulates_over_the_iterations():
    """With the flow head's last layer zeroed but for its bias, each update adds the bias:
    after n updates the 1/8 flow is n * bias, upsampled to 8 n * bias (the small network's
    bilinear upsampling keeps a constant exactly)."""
    net = raft.RAFT("small").eval()
    with torch.no_grad():
        net.update_block.flow_head.conv2.weight.zero_()
        net.update_block.flow_head.conv2.bias.copy_(torch.tensor([0.25, -0.125]))
        flow = net(torch.rand(1, 3, 64, 64) * 255, torch.rand(1, 3, 64, 64) * 255,
                   iterations=4)
    assert torch.allclose(flow[0, 0], torch.full((64, 64), 8.0))
    assert torch.allclose(flow[0, 1], torch.full((64, 64), -4.0))
