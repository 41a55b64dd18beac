# pose_animate: ordinary videos of people -> a training-ready dataset folder per subject,
# trained renderers, and driving videos rendered onto them. See README.md.
#
# results/
#   demo/{name}/             the built-in demo figures' videos and exact truth (rules/demo.smk)
#   subjects/{subject}/      the dataset folder (frames, openpose_json, mask, densepose, flow,
#                            flow_inv, bg.jpg, texture.jpg, meta.json): the stage rules
#   work/{subject}/          stage records and intermediates (raw keypoints, flow validity)
#   work/models/{family}/{name}/  training runs: frame cache, checkpoints, TensorBoard
#   normalized/{target}__{driving}/  driving skeletons in the target's body frame (clean.smk)
#   models/{family}/{name}/  trained models (model.pt, train.json); name = subject or dataset
#   eval/{family}/{name}.json  held-out evaluation against baselines (renderers.smk)
#   renders/{family}/{target}__{driving}/  video.mp4, compare.mp4, render.json
#   export/{layout}/{name}/  the dataset folders in other codebases' layouts (export.smk)
#   qa/{subject or name}/    every stage's QA pictures (collected by --report)
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")
# The library of this checkout, also where it is not installed (scripts find it through the
# link workflow/scripts/pose_animate, since Snakemake puts a script's folder on sys.path).
sys.path.insert(0, workflow.basedir)
from pose_animate.core.config import check_yaml_syntax
from pose_animate.core.errors import PoseAnimateError

# Snakemake's message for a YAML syntax error names no line; files given with --configfile
# are read by Snakemake before this point (see README "When a run stops").
try:
    check_yaml_syntax("config/config.yaml")
except PoseAnimateError as exc:
    raise WorkflowError(str(exc))


configfile: "config/config.yaml"


include: "rules/common.smk"


# The environment of every job with --sdm apptainer (config `container`; see the Dockerfile).
container: config["container"]


wildcard_constraints:
    subject=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    name=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    family=r"[a-z0-9]+",
    # no "__" in a target: it separates target and driving in render folders
    target=r"[A-Za-z0-9](?:[A-Za-z0-9.-]|_(?!_))*",
    driving=r"[A-Za-z0-9][A-Za-z0-9_.-]*",


include: "rules/demo.smk"
include: "rules/frames.smk"
include: "rules/keypoints.smk"
include: "rules/appearance.smk"
include: "rules/densepose.smk"
include: "rules/renderers.smk"
include: "rules/clean.smk"
include: "rules/export.smk"
include: "rules/dataset.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,
