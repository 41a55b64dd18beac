"""Every backend that needs a program, a package's weights or model files the config names
stops the run before any job when they are not there, with a message naming the key."""

import pytest


@pytest.mark.parametrize("sections, key", [
    ({"keypoints": {"backend": "openpose"}}, "keypoints.openpose.bin is not set"),
    ({"keypoints": {"backend": "openpose", "openpose": {"bin": "/no/openpose.bin"}}},
     "keypoints.openpose.bin is '/no/openpose.bin'"),
    ({"keypoints": {"backend": "alphapose"}}, "keypoints.alphapose.script is not set"),
    ({"keypoints": {"backend": "rtmlib"}}, "keypoints.rtmlib.det_model is not set"),
    ({"masks": {"backend": "sam2"}}, "masks.sam2.checkpoint is not set"),
    ({"densepose": {"backend": "detectron2"}}, "densepose.detectron2_config is not set"),
    ({"flow": {"method": "raft"}}, "flow.checkpoint is not set"),
    ({"flow": {"method": "flownet2", "checkpoint": "/no/FlowNet2_checkpoint.pth.tar"}},
     "flow.checkpoint is '/no/FlowNet2_checkpoint.pth.tar'"),
], ids=["openpose", "openpose-path", "alphapose", "rtmlib", "sam2", "detectron2", "raft",
        "flownet2-path"])
def test_a_missing_program_or_weight_stops_the_run_before_any_job(dry_run, sections, key):
    run = dry_run(sections)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and key in output, output[-2000:]
    assert "Fix:" in output and "rule " not in output.split(key)[0].split("\n")[-1]
    assert "Job stats" not in output  # nothing was planned


def test_the_slurm_profile_gives_each_gpu_backend_its_gpu(dry_run, tmp_path):
    from pathlib import Path
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"x")
    onnx = {"det_model": str(weights), "pose_model": str(weights)}
    profile = Path(__file__).resolve().parent.parent / "profiles" / "slurm"
    run = dry_run({"keypoints": {"backend": "rtmlib", "rtmlib": onnx},
                   "masks": {"backend": "sam2", "sam2": {"checkpoint": str(weights),
                                                         "config": "sam2.1_hiera_l.yaml"}},
                   "densepose": {"backend": "detectron2", "detectron2_config": str(weights),
                                 "detectron2_weights": str(weights)},
                   "flow": {"method": "raft", "checkpoint": str(weights)}},
                  "--profile", str(profile))
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-2000:]
    for rule in ("keypoints", "masks", "densepose", "flow"):
        block = out[out.index(f"rule {rule}:"):]
        assert "gpu=1" in block[:block.index("\n\n")], rule
