# Shared by all stage files. Configuration, the subject sheet, input functions, and the
# registries that stage files fill (ALL_TARGETS, STAGE_RECORDS). The Snakefile puts the
# library of this checkout on sys.path.
import re

from snakemake.exceptions import WorkflowError
from pose_animate.core.config import check_datasets, load_subjects, validate_config
from pose_animate.core.errors import PoseAnimateError
from pose_animate.export.plan import LAYOUTS as EXPORT_LAYOUTS, plan_exports
from pose_animate.appearance.flow import LEARNED as LEARNED_FLOW, check_checkpoint
from pose_animate.appearance.sam2_masks import check_sam2
from pose_animate.densepose.detectron2_backend import check_files
from pose_animate.keypoints.programs import PROGRAMS, check_program
from pose_animate.keypoints.rtmlib_backend import check_models
from pose_animate.renderers.evaluate_dataset import PARTS as DATASET_EVAL_PARTS
from pose_animate.renderers.families import FAMILIES, driving_name, plan_models

try:
    _source = ", ".join(map(str, workflow.configfiles))
    validate_config(
        config, source=_source, command_line=dict(workflow.config_settings.config or {})
    )
    DEMO_VIDEOS = {
        name: f"results/demo/{name}/video.mp4" for name in config["demo"]["figures"]
    }
    SUBJECTS = load_subjects(config["subjects"], generated=DEMO_VIDEOS.values())
    check_datasets(config, SUBJECTS.index, source=_source)
    if not all(
        SUBJECTS["keypoints"]
    ):  # some subject is detected: its detector is there
        if config["keypoints"]["backend"] in PROGRAMS:
            check_program(config["keypoints"])
        elif config["keypoints"]["backend"] == "rtmlib":
            check_models(config["keypoints"])
    if config["masks"]["backend"] == "sam2":
        check_sam2(config["masks"])
    if config["densepose"]["backend"] == "detectron2":
        check_files(config["densepose"])
    if config["flow"]["method"] in LEARNED_FLOW:
        check_checkpoint(config["flow"])
    # (family, subject or dataset) -> the model's plan: scope, train and test subjects
    MODELS = {
        (m["family"], m["name"]): m
        for m in plan_models(config, SUBJECTS.index, source=_source)
    }
    # (family, target, driving name) -> the render entry
    RENDERS = {
        (r["family"], r["target"], driving_name(r)): r for r in config["renders"]
    }
    # photos animated by renders (image:), by their target name (image-{stem})
    IMAGE_SOURCES = {r["target"]: r["image"] for r in config["renders"] if "image" in r}
    # gesture files that drive renders, by the name their render goes by (gestures-{stem})
    GESTURES = {driving_name(r): r for r in config["renders"] if "gestures" in r}
    # (layout, subject or dataset) -> the export's plan: its subjects by role, its parts
    EXPORTS = {
        (e["layout"], e["name"]): e
        for e in plan_exports(config, SUBJECTS.index, source=_source)
    }
except PoseAnimateError as exc:
    raise WorkflowError(str(exc))


# What `snakemake` builds by default; each rule file adds its final outputs.
ALL_TARGETS = []
# Per-stage records (results/work/{subject}/{stage}.json) merged into the dataset's meta.json.
STAGE_RECORDS = []


def subject_video(wildcards):
    return SUBJECTS.loc[wildcards.subject, "video"]


def keypoints_source(wildcards):
    """The sheet's keypoints column (a folder or file to import) as a list; [] to detect."""
    source = SUBJECTS.loc[wildcards.subject, "keypoints"]
    return [source] if source else []


# Settings that only a backend not in use reads stay out of a stage's params: a change of
# params reruns the stage (and all after it), and adding such a backend changed none.
BACKEND_ONLY = {
    "keypoints": {
        "openpose": ["openpose"],
        "alphapose": ["alphapose"],
        "rtmlib": ["rtmlib"],
    },
    "masks": {"sam2": ["sam2"]},
    "densepose": {"detectron2": ["batch_size"]},
    "flow": {
        "raft": ["checkpoint", "iterations", "batch_size", "precision"],
        "flownet2": ["checkpoint", "batch_size", "precision"],
    },
}


def stage_backend(section):
    """The backend a stage's section chooses (the flow stage calls it `method`)."""
    cfg = config[section]
    return cfg.get("backend", cfg.get("method"))


def stage_params(section):
    """config[section] without the settings that only its backends not in use read
    (BACKEND_ONLY)."""
    backends = BACKEND_ONLY[section]
    used = set(backends.get(stage_backend(section), ()))
    unused = {key for keys in backends.values() for key in keys} - used
    return {k: v for k, v in config[section].items() if k not in unused}


# The backends that run on a GPU, by stage: their job declares one (`resources: gpu`).
GPU_BACKENDS = {
    "keypoints": (*PROGRAMS, "rtmlib"),
    "masks": ("sam2",),
    "densepose": ("detectron2",),
    "flow": LEARNED_FLOW,
}


def stage_gpus(section):
    """The GPUs a stage's job takes: one when its backend runs on a GPU."""
    return int(stage_backend(section) in GPU_BACKENDS[section])


def train_gpus(family):
    """The GPUs a family's training holds: its gpus (data-parallel ranks), none on the CPU."""
    cfg = config["families"][family]
    return 0 if cfg["device"] == "cpu" else cfg["gpus"]


def keypoints_gpus(wildcards):
    """stage_gpus for the keypoints job, none when the subject's keypoints are imported."""
    return 0 if keypoints_source(wildcards) else stage_gpus("keypoints")


def flow_checkpoint(wildcards):
    """The learned flow's weights file, an input (a new file there reruns the flow jobs)."""
    cfg = config["flow"]
    return [cfg["checkpoint"]] if cfg["method"] in LEARNED_FLOW else []


def appearance_import(section):
    """Input function: config[section]'s import folder for this subject ({subject} filled
    in) when that stage imports (backend/method 'import'), else nothing."""

    def source(wildcards):
        cfg = config[section]
        if stage_backend(section) != "import":
            return []
        if not cfg["import_dir"]:
            raise WorkflowError(
                f"config: {section} imports but {section}.import_dir is not set. Fix: set "
                f"it to the folder to import ({{subject}} is replaced by the subject)."
            )
        return [cfg["import_dir"].format(subject=wildcards.subject)]

    return source


def driving_keypoints(wildcards):
    """What drives a render: a subject's cleaned keypoints, or a gesture file's."""
    if wildcards.driving in GESTURES:
        return f"results/work/gestures/{wildcards.driving}/openpose_json"
    return f"results/subjects/{wildcards.driving}/openpose_json"


def driving_video(part):
    """Input function: a driving subject's frames ('frames') or frames record ('record');
    nothing for a gesture file, which has no video."""

    def files(wildcards):
        if wildcards.driving in GESTURES:
            return []
        if part == "frames":
            return [f"results/subjects/{wildcards.driving}/frames"]
        return [f"results/work/{wildcards.driving}/frames.json"]

    return files


def densepose_masks(wildcards):
    """The person masks, for the skeleton IUV backend when densepose.use_masks is on."""
    cfg = config["densepose"]
    if cfg["backend"] == "skeleton" and cfg["use_masks"]:
        return [f"results/subjects/{wildcards.subject}/mask"]
    return []


def densepose_import(wildcards):
    """The apply_net dump or IUV folder to import ({subject} filled in), so that replacing
    it reruns the densepose stage."""
    path = config["densepose"]["import_path"]
    if config["densepose"]["backend"] == "import" and path:
        return [path.format(subject=wildcards.subject)]
    return []


def subject_folders(subjects):
    return [f"results/subjects/{s}" for s in subjects]


def model_parts(family, subjects, **settings):
    """The dataset-folder files a family reads (its declaration, for its settings)."""
    parts = FAMILIES[family].parts({**config["families"][family], **settings})
    return [f"results/subjects/{s}/{part}" for s in subjects for part in parts]


def pretrained(wildcards):
    """The model a run starts from: d2g's TransG pretrained on a dataset, when
    families.d2g.transg_pretrain names one."""
    if wildcards.family == "d2g":
        dataset = config["families"]["d2g"]["transg_pretrain"]["dataset"]
        if dataset:
            return [f"results/models/d2g/pretrain/{dataset}/model.pt"]
    return []


def model_inputs(wildcards):
    """What a model trains on: the parts its family reads, of its train subjects."""
    return model_parts(
        wildcards.family, MODELS[(wildcards.family, wildcards.name)]["train"]
    )


def evaluate_inputs(wildcards):
    """The model, the parts of the held-out data it reads, the masks (L1 inside the person),
    and the backward flow with its validity (temporal warping error). A model learnt from a
    dataset is evaluated on its test subjects, with what its baselines read too (DensePose
    parts and the background plate)."""
    plan = MODELS[(wildcards.family, wildcards.name)]
    model = f"results/models/{wildcards.family}/{wildcards.name}/model.pt"
    if plan["scope"] == "dataset":
        test = plan["test"]
        return {
            "model": model,
            "parts": [
                f"results/subjects/{s}/{part}"
                for s in test
                for part in DATASET_EVAL_PARTS + ("flow_inv",)
            ],
            "valid": [f"results/work/{s}/flow_valid" for s in test],
        }
    subject = wildcards.name
    return {
        "model": model,
        "parts": model_parts(wildcards.family, [subject]),
        "masks": f"results/subjects/{subject}/mask",
        "flow": f"results/subjects/{subject}/flow_inv",
        "valid": f"results/work/{subject}/flow_valid",
    }


def render_model(wildcards):
    """The model a render uses: the target's own, or (a family learnt from a dataset) the
    model of the render's dataset."""
    render = RENDERS[(wildcards.family, wildcards.target, wildcards.driving)]
    name = render["dataset"] if "dataset" in render else wildcards.target
    return f"results/models/{wildcards.family}/{name}/model.pt"


def person_folder(name):
    """Where a render's target has its frames and keypoints: a subject's dataset folder, or
    the folder made of a photo (renders with image:)."""
    if name in IMAGE_SOURCES:
        return f"results/sources/{name}"
    return f"results/subjects/{name}"


def render_source(wildcards):
    """The person a family learnt from a dataset animates: the target's frames and keypoints,
    and a subject's DensePose parts and plate (a photo has none; none of it for a subject's
    renderer)."""
    if FAMILIES[wildcards.family].scope != "dataset":
        return []
    folder = person_folder(wildcards.target)
    extra = [] if wildcards.target in IMAGE_SOURCES else ["densepose", "bg.jpg"]
    return [f"{folder}/{part}" for part in ["frames", "openpose_json", *extra]]


def export_plan(wildcards):
    """The export's subjects by role, and where each one's parts are."""
    entry = EXPORTS[(wildcards.layout, wildcards.name)]
    names = entry["train"] + entry["test"] + [entry["driving"]] * bool(entry["driving"])
    where = {
        s: {
            "folder": f"results/subjects/{s}",
            "raw": f"results/work/{s}/keypoints_raw",
            "record": f"results/work/{s}/frames.json",
        }
        for s in names
    }
    normalized = f"results/normalized/{entry['name']}__{entry['driving']}/openpose_json"
    return {
        **entry,
        "subjects": where,
        "normalized": normalized if entry["driving"] else None,
    }


def export_settings(wildcards):
    """The export settings this layout reads (a change to another layout's reruns nothing)."""
    cfg = config["export"]
    return {"link": cfg["link"], wildcards.layout: cfg[wildcards.layout]}


def export_inputs(wildcards):
    """What the export reads: its layout's parts of every subject (and, with driving:, the
    driving subject's skeletons raw and normalized into the subject's body frame)."""
    entry = EXPORTS[(wildcards.layout, wildcards.name)]
    paths = [
        export_part(s, part)
        for s in entry["train"] + entry["test"]
        for part in entry["parts"]
    ]
    if entry["driving"]:
        paths += [
            export_part(entry["driving"], "openpose_json"),
            export_part(entry["driving"], "frames"),
            export_plan(wildcards)["normalized"],
        ]
    return paths


def export_part(subject, part):
    if part == "keypoints_raw":
        return f"results/work/{subject}/keypoints_raw"
    if part == "fps":
        return f"results/work/{subject}/frames.json"
    return f"results/subjects/{subject}/{part}"
