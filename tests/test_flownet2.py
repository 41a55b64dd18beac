import math

import numpy as np
import pytest
import torch

from pose_animate.appearance.flownet2 import (MULTIPLE, PUBLISHED_KEYS, FlowNet2, channel_norm,
                                              correlation, published_to_model, warp)

# As the reference states them at the top of its files (NVIDIA/flownet2-pytorch): models.py
# (FlowNet2) 'Parameter count = 162,518,834', and networks/FlowNetC.py, FlowNetSD.py,
# FlowNetFusion.py. FlowNetS.py's '38,676,504' is left out: its own 12-channel layers hold
# 18,818 more (which the FlowNet2 total includes).
PUBLISHED_PARAMETERS = 162_518_834
PUBLISHED_SUBNET_PARAMETERS = {"flownetc": 39_175_298, "flownets_d": 45_371_666,
                               "flownetfusion": 581_226}


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return FlowNet2().eval()


def test_state_dict_has_the_published_keys_and_shapes(net):
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert ours == PUBLISHED_KEYS
    assert len(PUBLISHED_KEYS) == 220


def test_parameter_count_is_the_published_one(net):
    assert sum(p.numel() for p in net.parameters()) == PUBLISHED_PARAMETERS
    assert sum(math.prod(s) for s in PUBLISHED_KEYS.values()) == PUBLISHED_PARAMETERS
    for name, count in PUBLISHED_SUBNET_PARAMETERS.items():
        assert sum(p.numel() for p in getattr(net, name).parameters()) == count


def test_a_published_state_dict_loads_strictly():
    generator = torch.Generator().manual_seed(1)
    state = {k: torch.randn(s, generator=generator) for k, s in PUBLISHED_KEYS.items()}
    # Built without storage and given the tensors (assign): shapes are still checked, and the
    # shared model keeps its weights (random N(0, 1) ones would overflow a forward pass).
    with torch.device("meta"):
        model = FlowNet2()
    result = model.load_state_dict(published_to_model(state), strict=True, assign=True)
    assert not result.missing_keys and not result.unexpected_keys
    loaded = model.state_dict()
    assert torch.equal(loaded["flownetc.conv3_1.0.weight"], state["flownetc.conv3_1.0.weight"])
    assert torch.equal(loaded["flownetfusion.predict_flow0.bias"],
                       state["flownetfusion.predict_flow0.bias"])


def naive_correlation(f1, f2, max_displacement, stride2):
    """The CUDA kernel's loops: zero-padded f2, the channel mean, channel (j + r) * D + i + r."""
    b, c, h, w = f1.shape
    r = max_displacement // stride2
    d = 2 * r + 1
    out = np.zeros((b, d * d, h, w), np.float32)
    for j in range(-r, r + 1):
        for i in range(-r, r + 1):
            for y in range(h):
                for x in range(w):
                    y2, x2 = y + j * stride2, x + i * stride2
                    if 0 <= y2 < h and 0 <= x2 < w:
                        out[:, (j + r) * d + i + r, y, x] = \
                            (f1[:, :, y, x] * f2[:, :, y2, x2]).sum(1) / c
    return out


@pytest.mark.parametrize("max_displacement, stride2, size",
                         [(1, 1, (5, 7)), (3, 1, (6, 5)), (4, 2, (7, 9)), (5, 2, (6, 8)),
                          (20, 2, (9, 23))])
def test_correlation_matches_the_cuda_loops(max_displacement, stride2, size):
    rng = np.random.default_rng(max_displacement)
    f1, f2 = (rng.standard_normal((2, 4, *size)).astype(np.float32) for _ in range(2))
    ours = correlation(torch.from_numpy(f1), torch.from_numpy(f2), max_displacement, stride2)
    assert ours.shape == (2, (2 * (max_displacement // stride2) + 1) ** 2, *size)
    np.testing.assert_allclose(ours.numpy(), naive_correlation(f1, f2, max_displacement,
                                                               stride2), atol=1e-6)


def test_correlation_channels_are_displacement_rows_then_columns():
    f1 = torch.randn(1, 8, 16, 24)
    f2 = torch.roll(f1, shifts=(4, -6), dims=(2, 3))  # f1(y, x) is at f2(y + 4, x - 6)
    corr = correlation(f1, f2, 20, 2)
    best = int(corr[0, :, 8, 12].argmax())  # a pixel whose match lies inside f2
    assert divmod(best, 21) == (4 // 2 + 10, -6 // 2 + 10)


def naive_resample(image, flow):
    """Resample2d's CUDA kernel: the fraction from the unclamped position, each tap clamped."""
    _, c, h, w = image.shape
    out = np.zeros_like(image)
    for y in range(h):
        for x in range(w):
            xf, yf = x + flow[0, 0, y, x], y + flow[0, 1, y, x]
            a, b = xf - np.floor(xf), yf - np.floor(yf)
            xl, xr = (int(np.clip(np.floor(xf) + k, 0, w - 1)) for k in (0, 1))
            yt, yb = (int(np.clip(np.floor(yf) + k, 0, h - 1)) for k in (0, 1))
            out[0, :, y, x] = ((1 - a) * (1 - b) * image[0, :, yt, xl]
                               + a * (1 - b) * image[0, :, yt, xr]
                               + (1 - a) * b * image[0, :, yb, xl] + a * b * image[0, :, yb, xr])
    return out


def test_warp_by_an_integer_shift_replicates_the_border():
    image = torch.arange(3 * 5 * 7, dtype=torch.float32).reshape(1, 3, 5, 7)
    flow = torch.tensor([2.0, -1.0]).view(1, 2, 1, 1).expand(1, 2, 5, 7)
    rows = np.clip(np.arange(5) - 1, 0, 4)
    cols = np.clip(np.arange(7) + 2, 0, 6)
    expected = image.numpy()[:, :, rows][:, :, :, cols]
    np.testing.assert_allclose(warp(image, flow).numpy(), expected, atol=1e-4)


def test_warp_at_the_border_takes_the_edge_pixel():
    image = torch.tensor([10.0, 20.0, 30.0]).view(1, 1, 1, 3)
    flow = torch.zeros(1, 2, 1, 3)
    flow[0, 0] = torch.tensor([-0.5, 0.25, 0.5])  # before the first, between, past the last
    np.testing.assert_allclose(warp(image, flow).numpy().ravel(), [10.0, 22.5, 30.0],
                               atol=1e-4)


def test_warp_matches_the_cuda_kernel_on_random_flow():
    rng = np.random.default_rng(0)
    image = rng.standard_normal((1, 3, 6, 9)).astype(np.float32)
    flow = (rng.uniform(-1.5, 1.5, (1, 2, 6, 9)) * [[[[9]], [[6]]]]).astype(np.float32)
    ours = warp(torch.from_numpy(image), torch.from_numpy(flow)).numpy()
    np.testing.assert_allclose(ours, naive_resample(image, flow), atol=1e-4)


def test_channel_norm():
    x = torch.tensor([[3.0, 0.0], [4.0, -2.0]]).view(1, 2, 1, 2)
    assert channel_norm(x).flatten().tolist() == [5.0, 2.0]


def test_forward_returns_a_finite_flow_per_pixel(net):
    torch.manual_seed(2)
    image1 = torch.rand(2, 3, MULTIPLE, 2 * MULTIPLE) * 255
    image2 = torch.roll(image1, 3, dims=3)
    with torch.inference_mode():
        flow = net(image1, image2)
    assert flow.shape == (2, 2, MULTIPLE, 2 * MULTIPLE)
    assert flow.dtype == torch.float32
    assert torch.isfinite(flow).all()


@pytest.mark.parametrize("shape1, shape2", [((1, 3, 64, 96), (1, 3, 64, 96)),
                                            ((1, 3, 64, 64), (1, 3, 128, 64)),
                                            ((1, 1, 64, 64), (1, 1, 64, 64))])
def test_forward_rejects_wrong_sizes(net, shape1, shape2):
    with pytest.raises(ValueError, match="FlowNet2"):
        net(torch.zeros(shape1), torch.zeros(shape2))
