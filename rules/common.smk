# Shared by all stage files. Configuration, the subject sheet, input functions, and the
# registries that stage files fill (ALL_TARGETS, STAGE_RECORDS).
import sys

# The library of this checkout, also where it is not installed (scripts find it through the
# link workflow/scripts/pose_animate, since Snakemake puts a script's folder on sys.path).
sys.path.insert(0, workflow.basedir)

from snakemake.exceptions import WorkflowError
from pose_animate.core.config import validate_config, load_subjects
from pose_animate.core.errors import PoseAnimateError

try:
    validate_config(config, source=", ".join(map(str, workflow.configfiles)))
    DEMO_VIDEOS = {
        name: f"results/demo/{name}/video.mp4" for name in config["demo"]["figures"]
    }
    SUBJECTS = load_subjects(config["subjects"], generated=DEMO_VIDEOS.values())
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


def appearance_import(section):
    """Input function: config[section]'s import folder for this subject ({subject} filled
    in) when that stage imports (backend/method 'import'), else nothing."""

    def source(wildcards):
        cfg = config[section]
        if cfg.get("backend", cfg.get("method")) != "import":
            return []
        if not cfg["import_dir"]:
            raise WorkflowError(
                f"config: {section} imports but {section}.import_dir is not set. Fix: set "
                f"it to the folder to import ({{subject}} is replaced by the subject)."
            )
        return [cfg["import_dir"].format(subject=wildcards.subject)]

    return source


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


def train_inputs(wildcards):
    """Frames and cleaned keypoints, plus the inputs the train config switches on."""
    folder = f"results/subjects/{wildcards.subject}"
    inputs = {"frames": f"{folder}/frames", "keypoints": f"{folder}/openpose_json"}
    if config["train"]["use_background"]:
        inputs["background"] = f"{folder}/bg.jpg"
    if config["train"]["mask_weight"] > 0:
        inputs["masks"] = f"{folder}/mask"
    if config["train"]["use_iuv"]:
        inputs["iuv"] = f"{folder}/densepose"
    return inputs
