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
