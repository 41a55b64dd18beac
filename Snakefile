# pose_animate: ordinary videos of people -> a training-ready dataset folder per subject,
# a trained renderer, and driving videos rendered onto it. See README.md and DESIGN notes.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "rules/common.smk"


wildcard_constraints:
    subject=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    name=r"[A-Za-z0-9][A-Za-z0-9_.-]*",


include: "rules/demo.smk"
include: "rules/frames.smk"
include: "rules/keypoints.smk"
include: "rules/appearance.smk"
include: "rules/densepose.smk"
include: "rules/train.smk"
include: "rules/clean.smk"
include: "rules/dataset.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,
