# Probe a video (or a folder of images) and extract square PNG frames around the person.


rule frames:
    input:
        video=subject_video,
    output:
        frames=directory("results/subjects/{subject}/frames"),
        record="results/work/{subject}/frames.json",
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


rule frames_qa:
    input:
        video=subject_video,
        frames="results/subjects/{subject}/frames",
        record="results/work/{subject}/frames.json",
    output:
        sheet=report(
            "results/qa/{subject}/frames_crop.jpg",
            caption="../report/frames_crop.rst",
            category="Frames",
            subcategory="{subject}",
        ),
    log:
        "logs/frames_qa/{subject}.log",
    conda:
        "../envs/vision.yaml"
    script:
        "../workflow/scripts/frames_qa.py"


ALL_TARGETS += expand("results/qa/{subject}/frames_crop.jpg", subject=SUBJECTS.index)
