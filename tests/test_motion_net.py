"""Tests of the motion net (pose_animate.motion_net, motion_train): it learns to clean, runs on
any length, and its checkpoints are checked."""

import numpy as np
import pytest
import torch

from pose_animate.clean.filters import clean_sequence
from pose_animate.core.errors import PoseAnimateError
from pose_animate.clean.motion_data import make_pairs
from pose_animate.clean.motion_net import (NetConfig, MotionNet, load_motion_net, save_motion_net)
from pose_animate.clean.motion_train import evaluate, train_motion_net
from pose_animate.clean.noise import NoiseModel

JOINTS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]


def dancing(n_clips, n_frames=90, seed=0) -> list[np.ndarray]:
    """Smooth clips of a 15-joint figure, 300 px tall, each joint on its own sinusoids."""
    rng = np.random.default_rng(seed)
    clips = []
    t = np.arange(n_frames)[:, None]
    for _ in range(n_clips):
        base = np.stack([rng.uniform(150, 250, 15), np.linspace(100, 400, 15)], -1)
        clip = np.zeros((n_frames, 15, 3), np.float32)
        period = rng.uniform(20, 60, (2, 15))
        phase = rng.uniform(0, 6.3, (2, 15))
        clip[..., 0] = base[:, 0] + 25 * np.sin(2 * np.pi * t / period[0] + phase[0])
        clip[..., 1] = base[:, 1] + 15 * np.sin(2 * np.pi * t / period[1] + phase[1])
        clip[..., 2] = 1
        clips.append(clip)
    return clips


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)  # on a shared 2-core machine more threads are much slower
    rng = np.random.default_rng(0)
    noise = NoiseModel(jitter=0.02, drift=0.0)  # white jitter: more smoothing pays
    train = make_pairs(dancing(24), JOINTS, rng, noise)
    val = make_pairs(dancing(6, seed=1), JOINTS, rng, noise)
    cfg = NetConfig(joints=JOINTS, channels=24)
    net, history = train_motion_net(train, cfg, steps=300, batch_size=16, window=16, lr=3e-3,
                                    log_every=100)
    return net, val, history


def test_training_reduces_the_error(trained):
    net, val, history = trained
    untrained = evaluate(MotionNet(net.config), val)  # = its Gaussian base filter
    after = evaluate(net, val)
    assert history[-1]["loss"] < history[0]["loss"]
    assert after < 0.9 * untrained
    noisy = np.mean([np.linalg.norm(p["input"][..., :2] - p["target"][..., :2], axis=-1).mean()
                     for p in val]) / 300
    assert after < 0.6 * noisy


def test_receptive_field_is_81_frames():
    net = MotionNet(NetConfig(joints=JOINTS, channels=8))
    assert net.config.receptive_field == 81 and net.model.pad == 40
    net.model.eval()
    x = torch.zeros(1, net.config.n_features * 15, 81)
    assert net.model(x).shape == (1, 15, len(net.config.bank) + 2, 1)


@pytest.mark.parametrize("n_frames", [1, 7, 300])
def test_inference_on_any_length(trained, n_frames):
    net = trained[0]
    clip = dancing(1, n_frames)[0]
    observed = np.ones(clip.shape[:2], bool)
    out = net.denoise(clip, observed)
    assert out.shape == (n_frames, 15, 2) and np.isfinite(out).all()
    assert np.abs(out - clip[..., :2]).mean() < 15


def test_checkpoint_round_trip_and_clear_errors(trained, tmp_path):
    net = trained[0]
    path = tmp_path / "net.pt"
    save_motion_net(path, net)
    again = load_motion_net(path)
    clip = dancing(1, 50)[0]
    ok = np.ones((50, 15), bool)
    np.testing.assert_allclose(again.denoise(clip, ok), net.denoise(clip, ok), atol=1e-5)
    ckpt = torch.load(path, weights_only=False)
    ckpt["config"]["channels"] = 32
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(PoseAnimateError, match="do not match its config.*Fix"):
        load_motion_net(tmp_path / "mismatch.pt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.pt")
    with pytest.raises(PoseAnimateError, match="not a pose_animate.motion_net/2 checkpoint"):
        load_motion_net(tmp_path / "foreign.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(PoseAnimateError, match="cannot read"):
        load_motion_net(tmp_path / "text.pt")
    with pytest.raises(PoseAnimateError, match="not found.*train_motion_net"):
        load_motion_net(tmp_path / "none.pt")


def test_cleaning_uses_the_net_for_its_joints_only(trained):
    net = trained[0]
    seq = np.zeros((60, 137, 3), np.float32)
    seq[:, :15] = dancing(1, 60)[0]
    seq[:, 15:25, :2] = seq[:, :10, :2] + 5
    seq[:, 15:25, 2] = 1
    seq[40:, :] = 0  # nobody for 20 frames: stays empty with the net too
    with_net, _ = clean_sequence(seq, net=net)
    without, _ = clean_sequence(seq)
    assert not np.allclose(with_net[:40, :15], without[:40, :15])
    np.testing.assert_array_equal(with_net[:, 15:], without[:, 15:])
    assert (with_net[40:] == 0).all()


def test_train_from_config_on_openpose_folders(tmp_path):
    from pose_animate.clean.motion_train import train_motion_net_stage
    from pose_animate.core.config import load_config
    from pose_animate.core.formats import write_openpose_folder

    for k, clip in enumerate(dancing(3, 40)):
        seq = np.zeros((40, 137, 3), np.float32)
        seq[:, :15] = clip
        folder = tmp_path / "clips" / f"c{k}" / "keypoints"
        folder.mkdir(parents=True)
        write_openpose_folder(folder, seq)
    (tmp_path / "config.yaml").write_text(
        "motion_net: {channels: 8, training: {sources: [%s], steps: 6, batch_size: 4, "
        "window: 8, noise_draws: 1}}\n" % (tmp_path / "clips"))
    cfg = load_config(tmp_path / "config.yaml")
    record = train_motion_net_stage(tmp_path / "net.pt", cfg["motion_net"], cfg["clean"])
    assert record["sequences"] == 3 and record["receptive_field"] == 81
    assert len(record["joints"]) == 25 and record["train_pairs"] == 3
    assert load_motion_net(tmp_path / "net.pt").config.channels == 8
    (tmp_path / "empty.yaml").write_text("motion_net: {checkpoint: net.pt}\n")
    empty = load_config(tmp_path / "empty.yaml")
    with pytest.raises(PoseAnimateError, match="no training data.*Fix"):
        train_motion_net_stage(tmp_path / "x.pt", empty["motion_net"], empty["clean"])
