"""pose_animate/models: the pose label map and the pix2pixHD-family networks and losses."""

import numpy as np
import pytest
import torch
from torch import nn

from pose_animate.core.body import BODY_25_LIMBS, FACE, HAND_LEFT, J, N_POINTS
from pose_animate.core.errors import PoseAnimateError
from pose_animate.renderers import networks
from pose_animate.renderers.edn import model as edn
from pose_animate.renderers.posemap import (POSE_CHANNELS, draw_pose, input_channels, model_size,
                                         image_to_tensor_layout, tensor_layout_to_image)

TINY = edn.PRESETS["tiny"]


def test_pose_map_has_a_channel_per_limb_face_and_hand():
    person = np.zeros((N_POINTS, 3), np.float32)
    person[J["Neck"]] = (100, 50, 1)
    person[J["MidHip"]] = (100, 150, 1)
    person[FACE.start:FACE.start + 2] = [(90, 20, 1), (110, 20, 1)]
    person[HAND_LEFT.start:HAND_LEFT.start + 2] = [(40, 100, 1), (40, 120, 1)]
    person[J["RShoulder"]] = (60, 50, 0)  # missing (zero confidence): never drawn
    m = draw_pose(person, (200, 200), (100, 100))  # half size: points scale by 0.5
    assert m.shape == (POSE_CHANNELS, 100, 100) and POSE_CHANNELS == 24 + 3
    torso = BODY_25_LIMBS.index((1, 8))
    assert m[torso, 25:75, 50].min() == 1 and m[torso, :, :40].max() == 0
    assert m[len(BODY_25_LIMBS), 10, 45:55].max() == 1  # face channel
    assert m[len(BODY_25_LIMBS) + 1, 50:60, 20].max() == 1  # left hand channel
    assert m[len(BODY_25_LIMBS) + 2].max() == 0  # right hand absent
    assert m[BODY_25_LIMBS.index((1, 2))].max() == 0  # neck-shoulder: shoulder missing
    assert input_channels(iuv=True, background=True) == POSE_CHANNELS + 6


def test_model_size_keeps_aspect_on_multiples():
    assert model_size((256, 256), 128, 8) == (128, 128)
    assert model_size((720, 1280), 128, 16) == (64, 128)  # 72 rounds to 64, a multiple of 16
    img = (np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5)
    assert np.array_equal(tensor_layout_to_image(image_to_tensor_layout(img, (4, 4))), img)


def test_generator_shapes_and_background_compositing():
    cond_ch = input_channels(False, True)
    g = edn.Generator(TINY, cond_ch, background=True)
    cond = torch.rand(2, cond_ch, 32, 32) * 2 - 1
    out = g(cond, cond, torch.zeros(2, 3, 32, 32))
    assert out.shape == (2, 3, 32, 32) and out.abs().max() <= 1
    # an alpha matte of zero shows the background plate (the last three input channels)
    last = g.net[-1]
    with torch.no_grad():
        last.weight[3].zero_()
        last.bias[3] = -40
    out = g(cond, cond, torch.zeros(2, 3, 32, 32))
    assert torch.allclose(out, cond[:, -3:], atol=1e-5)


def test_discriminators_return_features_per_scale_and_losses():
    d = networks.MultiscaleDiscriminator(6, 8, n_layers=2, num_d=2)
    x = torch.randn(2, 6, 32, 32)
    outs = d(x)
    assert len(outs) == 2 and len(outs[0]) == 2 + 2  # first conv, 2 strided/normed, scores
    assert outs[1][-1].shape[-1] < outs[0][-1].shape[-1]  # second scale sees half the size
    real = [[torch.ones(1, 1, 4, 4)]]
    assert networks.gan_loss(real, True).item() == 0
    assert networks.gan_loss(real, False).item() == 1
    assert networks.feature_matching_loss(outs, outs).item() == 0
    g, d, dt = edn.build_networks(TINY, 30, background=False)
    assert dt is not None and len(dt.scales) == TINY.num_d_temporal


def test_vgg_loss_needs_a_local_weights_file(tmp_path):
    with pytest.raises(PoseAnimateError, match="vgg19_weights"):
        networks.VGG19Loss(tmp_path / "missing.pth")
    torch.manual_seed(0)
    weights = tmp_path / "vgg19.pth"
    # torchvision's whole-model layout: features.N.weight (+ classifier, ignored)
    state = {f"features.{k}": v for k, v in networks.vgg19_features().state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(1)
    torch.save(state, weights)
    loss = networks.VGG19Loss(weights)
    a, b = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(a, a).item() == 0 and loss(a, b).item() > 0
    torch.save({"0.weight": torch.zeros(3)}, weights)
    with pytest.raises(PoseAnimateError, match="not a VGG19"):
        networks.VGG19Loss(weights)


def test_conv_flops_counts_multiply_adds():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert networks.conv_flops(conv, torch.zeros(2, 3, 10, 10)) == 2 * 2 * 100 * 9 * 3 * 8
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
    assert networks.conv_flops(up, torch.zeros(1, 4, 5, 5)) == 2 * 25 * 9 * 4 * 2


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(PoseAnimateError, match="families.edn.preset"):
        edn.preset("huge")
