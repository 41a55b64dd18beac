# The dataset folder's meta.json: what each stage did, merged from the stages' records.
# (Included last: it reads the records every stage file registered.)


rule clean_keypoints:
    # Until the cleaning stage lands, the dataset's openpose_json/ holds the raw keypoints.
    input:
        raw="results/work/{subject}/keypoints_raw",
    output:
        cleaned=directory("results/subjects/{subject}/openpose_json"),
        record="results/work/{subject}/clean.json",
    log:
        "logs/clean_keypoints/{subject}.log",
    conda:
        "../envs/vision.yaml"
    script:
        "../workflow/scripts/clean_keypoints.py"


STAGE_RECORDS.append("results/work/{subject}/clean.json")


rule dataset_meta:
    input:
        records=lambda wc: expand(STAGE_RECORDS, subject=wc.subject),
    output:
        "results/subjects/{subject}/meta.json",
    log:
        "logs/dataset_meta/{subject}.log",
    conda:
        "../envs/vision.yaml"
    script:
        "../workflow/scripts/dataset_meta.py"


ALL_TARGETS += expand("results/subjects/{subject}/meta.json", subject=SUBJECTS.index)
