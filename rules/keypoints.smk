# 2D keypoints per frame as OpenPose JSON: detected (mediapipe, mmpose, or the OpenPose /
# AlphaPose program where installed, on a GPU) or imported
# (OpenPose JSON folder, AlphaPose results) into the extracted frames' pixels; the same job
# draws the QA sheet and overlay video.


rule keypoints:
    input:
        frames="results/subjects/{subject}/frames",
        frames_record="results/work/{subject}/frames.json",
        source=keypoints_source,
    output:
        raw=directory("results/work/{subject}/keypoints_raw"),
        record="results/work/{subject}/keypoints.json",
        sheet=report(
            "results/qa/{subject}/keypoints_sheet.jpg",
            caption="../report/keypoints_sheet.rst",
            category="Keypoints",
            subcategory="{subject}",
        ),
        video="results/qa/{subject}/keypoints_overlay.mp4",
    log:
        "logs/keypoints/{subject}.log",
    benchmark:
        "benchmarks/keypoints/{subject}.tsv"
    conda:
        "../envs/vision.yaml"
    threads: 2
    resources:
        gpu=keypoints_gpus,
    params:
        cfg=stage_params("keypoints"),
    script:
        "../workflow/scripts/keypoints.py"


STAGE_RECORDS.append("results/work/{subject}/keypoints.json")
ALL_TARGETS += expand(
    [
        "results/qa/{subject}/keypoints_sheet.jpg",
        "results/qa/{subject}/keypoints_overlay.mp4",
    ],
    subject=SUBJECTS.index,
)
