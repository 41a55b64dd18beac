# Appearance signals: person masks, the background plate, forward and backward optical flow,
# each job also drawing its QA picture. Library: pose_animate/appearance/ (masks.py,
# background.py, flow.py).


rule masks:
    input:
        frames="results/subjects/{subject}/frames",
        keypoints="results/subjects/{subject}/openpose_json",
        source=appearance_import("masks"),
    output:
        masks=directory("results/subjects/{subject}/mask"),
        record="results/work/{subject}/masks.json",
        sheet=report(
            "results/qa/{subject}/mask_sheet.jpg",
            caption="../report/mask_sheet.rst",
            category="Masks",
            subcategory="{subject}",
        ),
    log:
        "logs/masks/{subject}.log",
    benchmark:
        "benchmarks/masks/{subject}.tsv"
    conda:
        "../envs/masks.yaml"
    threads: 1
    resources:
        gpu=stage_gpus("masks"),
    params:
        cfg=stage_params("masks"),
    script:
        "../workflow/scripts/masks.py"


rule background:
    input:
        frames="results/subjects/{subject}/frames",
        masks="results/subjects/{subject}/mask",
    output:
        plate="results/subjects/{subject}/bg.jpg",
        inpainted="results/work/{subject}/bg_inpainted.png",
        record="results/work/{subject}/background.json",
        picture=report(
            "results/qa/{subject}/background.jpg",
            caption="../report/background.rst",
            category="Background",
            subcategory="{subject}",
        ),
    log:
        "logs/background/{subject}.log",
    benchmark:
        "benchmarks/background/{subject}.tsv"
    conda:
        "../envs/vision.yaml"
    params:
        cfg=config["background"],
    script:
        "../workflow/scripts/background.py"


rule flow:
    input:
        frames="results/subjects/{subject}/frames",
        source=appearance_import("flow"),
        checkpoint=flow_checkpoint,
    output:
        fwd=directory("results/subjects/{subject}/flow"),
        bwd=directory("results/subjects/{subject}/flow_inv"),
        valid=directory("results/work/{subject}/flow_valid"),
        record="results/work/{subject}/flow.json",
        sheet=report(
            "results/qa/{subject}/flow_sheet.jpg",
            caption="../report/flow_sheet.rst",
            category="Flow",
            subcategory="{subject}",
        ),
    log:
        "logs/flow/{subject}.log",
    benchmark:
        "benchmarks/flow/{subject}.tsv"
    conda:
        "../envs/flow.yaml"
    threads: 2
    resources:
        gpu=stage_gpus("flow"),
    params:
        cfg=stage_params("flow"),
    script:
        "../workflow/scripts/flow.py"


STAGE_RECORDS.append("results/work/{subject}/masks.json")
STAGE_RECORDS.append("results/work/{subject}/background.json")
STAGE_RECORDS.append("results/work/{subject}/flow.json")
ALL_TARGETS += expand(
    [
        "results/qa/{subject}/mask_sheet.jpg",
        "results/qa/{subject}/background.jpg",
        "results/qa/{subject}/flow_sheet.jpg",
    ],
    subject=SUBJECTS.index,
)
