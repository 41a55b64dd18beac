# Probe a video (or a folder of images) and extract square PNG frames around the person;
# the same job draws the crop QA sheet.


rule frames:
    input:
        video=subject_video,
    output:
        frames=directory("results/subjects/{subject}/frames"),
        record="results/work/{subject}/frames.json",
        sheet=report(
            "results/qa/{subject}/frames_crop.jpg",
            caption="../report/frames_crop.rst",
            category="Frames",
            subcategory="{subject}",
        ),
    log:
        "logs/frames/{subject}.log",
    benchmark:
        "benchmarks/frames/{subject}.tsv"
    conda:
        "../envs/vision.yaml"
    threads: 2
    params:
        cfg=config["frames"],
    script:
        "../workflow/scripts/frames.py"


STAGE_RECORDS.append("results/work/{subject}/frames.json")


ALL_TARGETS += expand("results/qa/{subject}/frames_crop.jpg", subject=SUBJECTS.index)
