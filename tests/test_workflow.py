"""The whole DAG run by Snakemake on a small demo: the dataset folder contract, renders and
evaluation, and incremental behaviour (a finished run does nothing; a new subject runs only its
own jobs; a changed stage setting reruns that stage and what depends on it, nothing upstream).
"""

import json
import os
import shutil
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

TEST = REPO / ".test"  # the configs users run as they are: snakemake --directory .test
CONFIG = yaml.safe_load((TEST / "config" / "config.yaml").read_text())
SHEET = (TEST / "config" / "subjects.tsv").read_text()


def snakemake(workdir, *args, check=True):
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                          str(REPO / "Snakefile"), *args],
                         cwd=workdir, capture_output=True, text=True)
    if check and run.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{run.stderr[-4000:]}")
    return run


def planned_jobs(output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job in a dry run's output."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", output):
        rule = re.match(r"(?:local)?rule (\w+):", block)
        if rule:
            wildcards = re.search(r"wildcards: (.*)", block)
            jobs.append((rule.group(1), wildcards.group(1) if wildcards else ""))
    return jobs


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("workflow")
    shutil.copytree(TEST / "config", work / "config")
    snakemake(work, "--cores", "2")
    return work


def test_dataset_folders_follow_the_contract(demo_run):
    for subject, n in (("demo_target", 20), ("demo_driving", 12)):
        folder = demo_run / "results" / "subjects" / subject
        # Snakemake marks directory outputs with a hidden .snakemake_timestamp file.
        names = lambda sub, pattern: sorted(
            p.name for p in (folder / sub).glob(pattern) if not p.name.startswith(".")
        )
        assert names("frames", "*.png") == [f"{i:06d}.png" for i in range(n)]
        assert names("openpose_json", "*.json") == [f"{i:06d}_keypoints.json" for i in range(n)]
        assert len(names("mask", "*.png")) == n and len(names("densepose", "*.png")) == n
        assert names("flow", "*") == [f"{i:06d}.flo" for i in range(n - 1)]
        assert names("flow_inv", "*") == [f"{i:06d}.flo" for i in range(n - 1)]
        assert cv2.imread(str(folder / "frames" / "000000.png")).shape == (96, 96, 3)
        assert cv2.imread(str(folder / "texture.jpg")).shape == (1200, 800, 3)
        assert cv2.imread(str(folder / "bg.jpg")).shape == (96, 96, 3)
        meta = json.loads((folder / "meta.json").read_text())
        for stage in ("frames", "keypoints", "clean", "masks", "background", "flow",
                      "densepose", "texture"):
            assert stage in meta, f"{subject}: meta.json lacks the {stage} record"
        # no temporary or partial outputs left beside the results
        assert not [p for p in folder.rglob(".*tmp*")]


def test_render_and_evaluation_are_made(demo_run):
    results = demo_run / "results"
    render = results / "renders" / "edn" / "demo_target__demo_driving"
    assert (render / "video.mp4").stat().st_size > 0 and (render / "compare.mp4").stat().st_size > 0
    assert (results / "models" / "edn" / "demo_target" / "model.pt").exists()
    evaluation = json.loads((results / "eval" / "edn" / "demo_target.json").read_text())
    assert evaluation["family"] == "edn" and evaluation["name"] == "demo_target"
    assert set(evaluation["model"]) == set(evaluation["baselines"]["nearest_neighbour"])
    for metric in ("ssim", "psnr", "l1", "keypoint_px", "warping_error"):
        assert evaluation["model"][metric] is not None, metric
    assert evaluation["real_frames"]["warping_error"] is not None
    for picture in ("train_curves.png", "train_samples.jpg", "eval_table.png",
                    "eval_frames.jpg", "render_demo_driving.jpg"):
        assert (results / "qa" / "demo_target" / "edn" / picture).exists(), picture


def test_a_finished_run_run_again_does_nothing(demo_run):
    run = snakemake(demo_run, "-n")
    assert "Nothing to be done" in run.stdout + run.stderr, run.stdout[-3000:]


def test_a_new_subject_runs_only_its_own_jobs(demo_run):
    frames = demo_run / "results" / "demo" / "demo_driving" / "truth" / "frames"
    sheet = demo_run / "config" / "subjects.tsv"
    sheet.write_text(SHEET + f"newcomer\t{frames}\n")
    try:
        jobs = planned_jobs(snakemake(demo_run, "-n").stdout)
    finally:
        sheet.write_text(SHEET)
    assert jobs, "the new subject planned no jobs"
    for rule, wildcards in jobs:
        assert rule == "all" or "subject=newcomer" in wildcards, (rule, wildcards)


def test_exports_are_built_and_a_dataset_change_reruns_only_its_exports(demo_run):
    snakemake(demo_run, "export", "--cores", "2", "--configfile", "config/export.yaml")
    export = demo_run / "results" / "export"
    assert sorted(p.name for p in (export / "gfla" / "figures" / "train_256" / "train_A"
                                   / "demo_target").iterdir()) == [f"{i:05d}.png" for i in range(20)]
    assert (export / "gfla" / "figures" / "test_list.csv").exists()
    assert len(list((export / "d2g" / "demo_target" / "densepose").glob("*_IUV.png"))) == 20
    assert (export / "pose_transfer" / "demo_target" / "annotations" /
            "norm_test_annotations.npy").exists()
    meta = json.loads((export / "animate_anyone" / "figures" / "meta.json").read_text())
    assert len(meta) == 2 and all(Path(m["kps_path"]).exists() for m in meta)
    assert (demo_run / "results" / "qa" / "figures" / "export_gfla.jpg").exists()
    # a subject joins the dataset: its own jobs and the dataset's exports, nothing else
    frames = demo_run / "results" / "demo" / "demo_driving" / "truth" / "frames"
    sheet = demo_run / "config" / "subjects.tsv"
    config = yaml.safe_load((demo_run / "config" / "export.yaml").read_text())
    config["datasets"]["figures"]["test"].append("newcomer")
    (demo_run / "joined.yaml").write_text(yaml.safe_dump(config))
    sheet.write_text(SHEET + f"newcomer\t{frames}\n")
    try:
        jobs = planned_jobs(snakemake(demo_run, "export", "-n", "--configfile",
                                      "joined.yaml").stdout)
    finally:
        sheet.write_text(SHEET)
    exports = {wildcards for rule, wildcards in jobs if rule == "export_layout"}
    # another layout's setting changes nothing here
    other = yaml.safe_load((demo_run / "config" / "export.yaml").read_text())
    other["export"]["mraa"] = {"size": 128}
    (demo_run / "other.yaml").write_text(yaml.safe_dump(other))
    unchanged = snakemake(demo_run, "export", "-n", "--configfile", "other.yaml")
    assert "Nothing to be done" in unchanged.stdout + unchanged.stderr
    assert exports == {"layout=gfla, name=figures", "layout=animate_anyone, name=figures"}, jobs
    for rule, wildcards in jobs:
        assert rule in ("export", "export_layout") or "subject=newcomer" in wildcards, (rule, wildcards)


def test_a_changed_stage_setting_reruns_that_stage_and_downstream_only(demo_run):
    config = yaml.safe_load((demo_run / "config" / "config.yaml").read_text())
    config["flow"] = {"method": "farneback"}
    (demo_run / "changed.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                          str(REPO / "Snakefile"), "--configfile", "changed.yaml", "-n"],
                         cwd=demo_run, capture_output=True, text=True)
    rules = {rule for rule, _ in planned_jobs(run.stdout)}
    assert "flow" in rules, run.stdout[-3000:] + run.stderr[-2000:]
    upstream = {"demo_video", "frames", "keypoints", "clean_keypoints", "masks", "background",
                "densepose", "texture"}
    assert not rules & upstream, rules


def test_report_collects_the_qa_pictures(demo_run):
    snakemake(demo_run, "--report", "report.html")
    html = (demo_run / "report.html").read_text(errors="replace")
    assert len(html) > 100_000
    for picture in ("keypoints_sheet", "mask_sheet", "flow_sheet", "texture_atlas"):
        assert picture in html, picture


def test_d2g_with_a_pretrained_transg_plans_the_pretraining_first(demo_run):
    config = yaml.safe_load((demo_run / "config" / "config.yaml").read_text())
    config["datasets"] = {"pair": {"train": ["demo_target", "demo_driving"]}}
    config["models"].append({"family": "d2g", "subject": "demo_target"})
    config["families"]["d2g"] = {"steps": 2, "transg_pretrain": {"dataset": "pair", "steps": 2}}
    (demo_run / "d2g.yaml").write_text(yaml.safe_dump(config))
    run = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                          str(REPO / "Snakefile"), "--configfile", "d2g.yaml", "-n"],
                         cwd=demo_run, capture_output=True, text=True)
    jobs = planned_jobs(run.stdout)
    assert ("pretrain_transg", "dataset=pair") in jobs, run.stdout[-3000:] + run.stderr[-2000:]
    assert ("train", "name=demo_target, family=d2g") in jobs
    assert not [rule for rule, wildcards in jobs if "edn" in wildcards]  # edn is up to date


def test_the_d2g_test_config_trains_evaluates_and_renders_d2g_beside_edn(demo_run):
    snakemake(demo_run, "--cores", "2", "--configfile", "config/d2g.yaml")
    record = json.loads((demo_run / "results" / "eval" / "d2g" / "demo_target.json").read_text())
    assert record["family"] == "d2g" and "surface" in record
    assert record["pose_animate"]["version"]  # what made the result
    render = demo_run / "results" / "renders" / "d2g" / "demo_target__demo_driving"
    assert (render / "video.mp4").stat().st_size > 0 and len(list((render / "iuv").glob("*.png")))


def test_the_pose2img_test_config_trains_evaluates_and_renders_a_gesture_file(demo_run,
                                                                              tmp_path):
    """pose2img beside edn, rendering the demo's driving figure and a gesture npz in the
    speech-driven seed's format (made here: the driving figure's upper body, neck-relative)."""
    from pose_animate.core.formats import read_openpose_folder
    from pose_animate.core.skeletons import POSE122_FROM

    people = read_openpose_folder(demo_run / "results" / "subjects" / "demo_driving" /
                                  "openpose_json")
    points = people[:, POSE122_FROM, :2] - people[:, None, 1, :2]  # around the neck
    gestures = np.delete(points, 1, axis=1).transpose(0, 2, 1)[None]  # (1, T, 2, 121)
    np.savez(tmp_path / "talk.npz", poses_pred_batch=gestures)
    config = yaml.safe_load((demo_run / "config" / "pose2img.yaml").read_text())
    config["renders"].append({"family": "pose2img", "target": "demo_target",
                              "gestures": str(tmp_path / "talk.npz"), "fps": 12})
    (demo_run / "p2i.yaml").write_text(yaml.safe_dump(config))
    snakemake(demo_run, "--cores", "2", "--configfile", "p2i.yaml")
    record = json.loads((demo_run / "results" / "eval" / "pose2img" / "demo_target.json")
                        .read_text())
    assert record["family"] == "pose2img" and "nearest_neighbour" in record["baselines"]
    for driving in ("demo_driving", "gestures-talk"):
        render = demo_run / "results" / "renders" / "pose2img" / f"demo_target__{driving}"
        assert (render / "video.mp4").stat().st_size > 0
        assert json.loads((render / "render.json").read_text())["frames"] == 12
    assert not [rule for rule, _ in planned_jobs(snakemake(
        demo_run, "-n", "--configfile", "p2i.yaml").stdout)]  # everything up to date


def test_the_gfla_test_config_trains_on_a_dataset_and_animates_a_person_it_never_saw(
        demo_run):
    """gfla learnt from the two demo figures, evaluated on a third against both baselines,
    and the third animated by the driving figure from its first frame."""
    snakemake(demo_run, "--cores", "2", "--configfile", "config/gfla.yaml")
    results = demo_run / "results"
    record = json.loads((results / "eval" / "gfla" / "trio.json").read_text())
    assert record["scope"] == "dataset" and list(record["subjects"]) == ["demo_third"]
    assert set(record["baselines"]) == {"source_copy", "piecewise_affine"}
    assert record["model"]["warping_error"] is not None
    trained = json.loads((results / "models" / "gfla" / "trio" / "train.json").read_text())
    assert trained["subjects"] == ["demo_target", "demo_driving"]
    render = results / "renders" / "gfla" / "demo_third__demo_driving"
    assert (render / "compare.mp4").stat().st_size > 0
    assert json.loads((render / "render.json").read_text())["frames"] == 12
    assert (results / "qa" / "trio" / "gfla" / "eval_frames.jpg").exists()
    assert not [rule for rule, _ in planned_jobs(snakemake(
        demo_run, "-n", "--configfile", "config/gfla.yaml").stdout)]  # everything up to date


def test_the_import_test_config_builds_dataset_folders_from_imported_keypoints(tmp_path):
    """.test/config/import.yaml as users run it: its inputs generated, then the workflow."""
    work = tmp_path / "import"
    shutil.copytree(TEST, work, ignore=shutil.ignore_patterns("results", "logs", "inputs",
                                                             ".snakemake", "benchmarks"))
    subprocess.run([sys.executable, str(work / "make_import_inputs.py"), str(work)], check=True)
    snakemake(work, "--cores", "2", "--configfile", "config/import.yaml")
    for subject, backend in (("walker", "import openpose"), ("dancer", "import alphapose")):
        meta = json.loads((work / "results" / "subjects" / subject / "meta.json").read_text())
        assert meta["keypoints"]["backend"] == backend
        assert meta["keypoints"]["frames_with_person"] == 16, subject
        assert len(list((work / "results" / "subjects" / subject / "flow").glob("*.flo"))) == 15


def test_the_flow_stage_runs_raft_from_a_checkpoint_in_the_published_layout(demo_run, tmp_path):
    """flow.method raft through the workflow: a RAFT-small state dict saved as the authors
    save theirs (random weights: what is checked is the files, not the motion), on a copy of
    the finished demo so that the other tests keep theirs."""
    import torch

    from pose_animate.appearance.raft import RAFT
    from pose_animate.core.formats import read_flo

    work = tmp_path / "raft"
    shutil.copytree(demo_run, work, symlinks=True)
    ckpt = tmp_path / "raft-small.pth"
    torch.save({f"module.{k}": v for k, v in RAFT("small").state_dict().items()}, ckpt)
    config = yaml.safe_load((work / "config" / "config.yaml").read_text())
    config["flow"] = {"method": "raft", "checkpoint": str(ckpt), "iterations": 4}
    (work / "raft.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "results/work/demo_driving/flow.json", "--cores", "2", "--configfile",
              "raft.yaml")
    record = json.loads((work / "results" / "work" / "demo_driving" / "flow.json").read_text())
    assert record["network"]["name"] == "raft-small" and record["pairs"] == 11
    subject = work / "results" / "subjects" / "demo_driving"
    for folder in ("flow", "flow_inv"):
        files = sorted((subject / folder).glob("*.flo"))
        assert len(files) == 11
        flow = read_flo(files[0])
        assert flow.shape == (96, 96, 2) and np.isfinite(flow).all()
    assert len(list((work / "results" / "work" / "demo_driving" / "flow_valid" / "fwd")
                    .glob("*.png"))) == 11


def test_a_two_rank_train_job_survives_a_killed_rank(demo_run, tmp_path):
    """families.edn.gpus: 2 on this GPU-less machine: the train job runs 2 gloo ranks on the
    CPU; one is killed (SIGKILL) after the first checkpoint; the job restarts both, resumes and
    ends with the model."""
    import signal
    import time

    work = tmp_path / "ddp"
    shutil.copytree(demo_run, work, symlinks=True)
    config = yaml.safe_load((work / "config" / "config.yaml").read_text())
    config["families"]["edn"].update(gpus=2, steps=16, checkpoint_every=2, batch_size=1)
    (work / "ddp.yaml").write_text(yaml.safe_dump(config))
    target = "results/models/edn/demo_target/train.json"
    job = subprocess.Popen([sys.executable, "-m", "snakemake", "--snakefile",
                            str(REPO / "Snakefile"), target, "--cores", "2", "--resources",
                            "gpu=2", "--configfile", "ddp.yaml"],
                           cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    checkpoints = work / "results" / "work" / "models" / "edn" / "demo_target" / "checkpoints"
    shutil.rmtree(checkpoints)  # the demo's own (another batch size: not resumed anyway)
    killed, deadline = None, time.monotonic() + 300
    while killed is None and job.poll() is None and time.monotonic() < deadline:
        if list(checkpoints.glob("step_*.pt")):
            ranks = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                     and "pose_animate.renderers.distributed" in _cmdline(p)
                     and _cwd(p) == work.resolve()]
            if len(ranks) == 2:
                killed = max(ranks)
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    out, _ = job.communicate(timeout=600)
    assert job.returncode == 0, out[-4000:]
    assert killed, "no rank was found to kill"
    record = json.loads((work / target).read_text())
    assert record["world_size"] == 2 and record["global_batch_size"] == 2
    assert record["resumed_from_step"] >= 2
    log = (work / "logs" / "train" / "edn" / "demo_target.log").read_text()
    assert "was stopped by SIGKILL: starting the 2 ranks again" in log


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _cwd(proc: Path):
    try:
        return Path(os.readlink(proc / "cwd")).resolve()
    except OSError:
        return None


def test_a_gesture_file_drives_a_render_through_the_workflow(demo_run, tmp_path):
    """renders: {target, gestures: file.npz}: the speech-driven seed's gesture format (here
    made of the demo driving figure's upper body) becomes keypoints, is normalized onto the
    target by the shoulders and rendered at the entry's fps, the comparison without a video."""
    from pose_animate.core.body import J
    from pose_animate.core.formats import read_openpose_folder
    from pose_animate.core.skeletons import POSE122_FROM

    work = tmp_path / "gestures"
    shutil.copytree(demo_run, work, symlinks=True)
    people = read_openpose_folder(work / "results" / "subjects" / "demo_driving" /
                                  "openpose_json")
    offsets = people[:, POSE122_FROM, :2] - people[:, [J["Neck"]], :2]
    offsets = np.delete(offsets, POSE122_FROM.index(J["Neck"]), axis=1)
    np.savez(work / "talk.npz", poses_pred_batch=offsets.transpose(0, 2, 1)[None])
    config = yaml.safe_load((work / "config" / "config.yaml").read_text())
    config["renders"] = [{"family": "edn", "target": "demo_target",
                          "gestures": str(work / "talk.npz"), "fps": 10}]
    (work / "talk.yaml").write_text(yaml.safe_dump(config))
    pair = "results/renders/edn/demo_target__gestures-talk"
    snakemake(work, f"{pair}/compare.mp4", "--cores", "2", "--configfile", "talk.yaml")
    record = json.loads((work / pair / "render.json").read_text())
    assert record["frames"] == len(people) and record["fps"] == 10
    normalized = json.loads((work / "results" / "normalized" / "demo_target__gestures-talk" /
                             "normalize.json").read_text())
    assert normalized["mode"] == "shoulders"
    import av
    with av.open(str(work / pair / "compare.mp4")) as video:
        stream = video.streams.video[0]
        assert stream.average_rate == 10 and stream.frames == len(people)
        width = stream.codec_context.width
    size = record["size"][1]
    assert width == 2 * size  # skeleton | result: no driving video to show
