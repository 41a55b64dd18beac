"""pose_animate.renderers.engine with the edn family: a few steps on a tiny dataset folder,
resume, errors; and the dataset folder it reads (renderers.data)."""

import logging

import numpy as np
import pytest
import torch

from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import write_openpose
from pose_animate.renderers import checkpoint
from pose_animate.renderers.data import SubjectData, heldout_start
from pose_animate.renderers.device import autocast_dtype
from pose_animate.renderers.edn.train import PairDataset, TrainStep
from pose_animate.renderers.engine import train as engine_train
from pose_animate.renderers.qa import curves_plot, samples_picture
from stick_figure import make_subject_folder, stick_pose


def train_cfg(**overrides) -> dict:
    """The schema's defaults with tiny sizes (16 px, a few steps)."""
    return settings("families.edn", {
        "preset": "tiny", "size": 16, "steps": 4, "batch_size": 1, "checkpoint_every": 2,
        "log_every": 1, "workers": 0, "use_background": True, "mask_weight": 1.0,
        "device": "cpu", **overrides})


def train(folder, model_path, run_dir, cfg):
    return engine_train("edn", [folder], model_path, run_dir, cfg, name="stick")


@pytest.fixture(scope="module")
def subject(tmp_path_factory):
    return make_subject_folder(tmp_path_factory.mktemp("subject"), n_frames=10, size=48)


def test_heldout_split_and_precision_choice():
    assert heldout_start(100, 0.1) == 90
    assert heldout_start(10, 0.05) == 9  # at least one frame held out
    assert heldout_start(2, 0.5) == 1 and heldout_start(50, 0) == 50
    assert autocast_dtype("cuda", True) is torch.bfloat16
    assert autocast_dtype("cuda", False) is None and autocast_dtype("cpu", True) is None


def test_train_writes_model_checkpoints_logs_and_pictures(subject, tmp_path):
    run = tmp_path / "run"
    record = train(subject, tmp_path / "model.pt", run, train_cfg())
    assert record["training_frames"] == 9 and record["heldout_frames"] == 1
    assert record["size"] == [16, 16] and record["precision"] == "fp32"
    assert record["family"] == "edn" and record["name"] == "stick"
    model = checkpoint.load(tmp_path / "model.pt", "edn")
    assert model["spec"]["preset"] == "tiny" and model["step"] == 4
    assert model["extras"]["training_frames"] == 9
    assert set(model["extras"]["parts"]) == {"frames", "openpose_json", "bg.jpg", "mask"}
    assert [h["step"] for h in record["history"]] == [1, 2, 3, 4]
    assert all(np.isfinite(h["G_l1"]) and h["G_l1"] > 0 for h in record["history"])
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step_000002.pt", "step_000004.pt"]
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert curves_plot(record).ndim == 3
    assert samples_picture(run).shape[1] == 3 * 16  # pose | generated | real


def test_interrupted_training_resumes_from_the_last_checkpoint(subject, tmp_path, monkeypatch):
    cfg = train_cfg(steps=6, checkpoint_every=2)
    straight = tmp_path / "straight"
    train(subject, straight / "model.pt", straight, cfg)

    real_step, calls = TrainStep.step, []

    def dies_at_step_5(self, batch):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt  # the job is killed during step 5
        return real_step(self, batch)

    monkeypatch.setattr(TrainStep, "step", dies_at_step_5)
    run = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(subject, run / "model.pt", run, cfg)
    assert not (run / "model.pt").exists()
    assert checkpoint.latest(run / "checkpoints").name == "step_000004.pt"
    monkeypatch.setattr(TrainStep, "step", real_step)
    record = train(subject, run / "model.pt", run, cfg)
    assert record["resumed_from_step"] == 4
    a, b = checkpoint.load(straight / "model.pt"), checkpoint.load(run / "model.pt")
    assert [h["step"] for h in b["record"]["history"]] == [1, 2, 3, 4, 5, 6]
    for key in a["weights"]:  # same batches, same weights: the resume lost nothing
        assert torch.allclose(a["weights"][key], b["weights"][key], atol=1e-5), key


def test_a_checkpoint_of_another_spec_is_not_continued(subject, tmp_path, caplog):
    """Another preset or other inputs (the spec): the run starts afresh and keeps the old
    checkpoints aside."""
    caplog.set_level(logging.INFO, logger="pose_animate")
    run = tmp_path / "run"
    train(subject, tmp_path / "model.pt", run, train_cfg(steps=2))
    record = train(subject, tmp_path / "model.pt", run, train_cfg(steps=4, size=24))
    assert record["resumed_from_step"] == 0
    assert "the model changed (inputs" in caplog.text and "'size': 16" in caplog.text
    assert sorted(p.name for p in (run / "checkpoints" / "previous").iterdir()) == [
        "step_000002.pt"]  # the earlier run is kept, not lost
    record = train(subject, tmp_path / "model.pt", run, train_cfg(steps=4, use_background=False))
    assert record["resumed_from_step"] == 0 and "'background': True" in caplog.text


@pytest.mark.parametrize("change", [{"seed": 1}, {"lr": 0.001}, {"l1_weight": 5.0}])
def test_changed_training_settings_train_afresh(subject, tmp_path, change, caplog):
    caplog.set_level(logging.INFO, logger="pose_animate")
    run = tmp_path / "run"
    first = train(subject, tmp_path / "a.pt", run, train_cfg(steps=2))
    again = train(subject, tmp_path / "b.pt", run, train_cfg(steps=2, **change))
    assert again["resumed_from_step"] == 0, "a changed setting must not reuse the old weights"
    name = next(iter(change))
    assert f"the training settings changed ({name}" in caplog.text
    a, b = checkpoint.load(tmp_path / "a.pt"), checkpoint.load(tmp_path / "b.pt")
    assert any(not torch.equal(a["weights"][k], b["weights"][k]) for k in a["weights"])
    assert first["history"] != again["history"]


def test_fewer_steps_never_return_a_longer_runs_weights(subject, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pose_animate")
    run = tmp_path / "run"
    train(subject, tmp_path / "m.pt", run, train_cfg(steps=6, checkpoint_every=2,
                                                     keep_checkpoints=2))  # keeps 4 and 6
    record = train(subject, tmp_path / "m.pt", run, train_cfg(steps=5, checkpoint_every=2,
                                                              keep_checkpoints=2))
    assert record["resumed_from_step"] == 4  # the latest checkpoint at or before step 5
    assert checkpoint.load(tmp_path / "m.pt")["step"] == 5
    record = train(subject, tmp_path / "m.pt", run, train_cfg(steps=2))
    assert record["resumed_from_step"] == 0 and "past the 2 steps asked for" in caplog.text
    straight = train(subject, tmp_path / "s.pt", tmp_path / "straight", train_cfg(steps=2))
    assert record["history"] == straight["history"]  # as if trained for 2 steps from scratch


def test_the_same_run_again_resumes_and_says_the_model_is_rewritten(subject, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pose_animate")
    run = tmp_path / "run"
    train(subject, tmp_path / "m.pt", run, train_cfg(steps=2))
    record = train(subject, tmp_path / "m.pt", run, train_cfg(steps=2, log_every=2, workers=0))
    assert record["resumed_from_step"] == 2 and "already holds all 2 steps" in caplog.text


def test_bad_dataset_folders_are_named_with_the_fix(tmp_path):
    folder = make_subject_folder(tmp_path / "s", n_frames=6, size=32)
    (folder / "openpose_json" / "000005_keypoints.json").unlink()
    with pytest.raises(PoseAnimateError, match="5 keypoint files for 6 frames"):
        train(folder, tmp_path / "m.pt", tmp_path / "run", train_cfg())
    folder = make_subject_folder(tmp_path / "t", n_frames=6, size=32)
    (folder / "mask" / "000003.png").unlink()
    with pytest.raises(PoseAnimateError, match="5 masks for 6 frames"):
        train(folder, tmp_path / "m.pt", tmp_path / "run2", train_cfg())
    (folder / "bg.jpg").unlink()
    with pytest.raises(PoseAnimateError, match="use_background"):
        train(folder, tmp_path / "m.pt", tmp_path / "run3", train_cfg(mask_weight=0))


def test_gpu_out_of_memory_names_the_setting_to_lower(subject, tmp_path, monkeypatch):
    def out_of_memory(self, batch):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(TrainStep, "step", out_of_memory)
    with pytest.raises(PoseAnimateError, match="families.edn.batch_size"):
        train(subject, tmp_path / "m.pt", tmp_path / "run", train_cfg())


def test_worker_processes_read_the_frame_cache(subject, tmp_path):
    import pickle

    data = SubjectData(subject, ["frames", "openpose_json", "bg.jpg", "densepose", "mask"],
                       size=16, multiple=8, cache_dir=tmp_path / "cache")
    pairs = PairDataset(data, 9)
    assert len(pairs) == 8 and pairs.pairs[0] == (0, 1)
    direct = torch.utils.data.default_collate([pairs[i] for i in range(4)])
    loader = torch.utils.data.DataLoader(pairs, batch_size=4, num_workers=1)
    batch = next(iter(loader))
    assert set(batch) == {"cond_prev", "cond", "img_prev", "img", "mask_prev", "mask"}
    for key in batch:
        assert torch.equal(batch[key], direct[key]), key
    assert batch["cond"].shape == (4, 27 + 3 + 3, 16, 16)  # pose, IUV, background
    # a pickled copy (spawned workers) opens its own memory maps
    copy = pickle.loads(pickle.dumps(data))
    assert copy._arrays == {} and np.array_equal(copy.image_bgr(3), data.image_bgr(3))
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 3  # frames, mask, iuv: cached once


def test_a_changed_dataset_is_trained_afresh_not_resumed(tmp_path):
    folder = make_subject_folder(tmp_path / "s", n_frames=6, size=32)
    run = tmp_path / "run"
    train(folder, tmp_path / "m.pt", run, train_cfg(steps=2))
    record = train(folder, tmp_path / "m.pt", run, train_cfg(steps=3))
    assert record["resumed_from_step"] == 2  # same data: resumed
    person = stick_pose(1, 6, 32)
    person[:, 0] += 2
    write_openpose(folder / "openpose_json" / "000001_keypoints.json", [person])
    record = train(folder, tmp_path / "m.pt", run, train_cfg(steps=4))
    assert record["resumed_from_step"] == 0


def test_an_upstream_rerun_that_writes_identical_files_resumes(tmp_path):
    """The dataset signature is the files' content: rewriting them byte for byte (a rerun of
    the frames or keypoints stage) keeps the training."""
    import os
    import shutil

    folder = make_subject_folder(tmp_path / "s", n_frames=6, size=32)
    run = tmp_path / "run"
    train(folder, tmp_path / "m.pt", run, train_cfg(steps=2))
    for sub in ("frames", "openpose_json", "mask"):
        for path in (folder / sub).iterdir():
            data = path.read_bytes()
            path.unlink()
            path.write_bytes(data)  # a new file, new mtime, the same bytes
            os.utime(path, (1e9, 1e9))
    shutil.copy(folder / "bg.jpg", tmp_path / "bg.jpg")
    shutil.move(tmp_path / "bg.jpg", folder / "bg.jpg")
    record = train(folder, tmp_path / "m.pt", run, train_cfg(steps=3))
    assert record["resumed_from_step"] == 2
