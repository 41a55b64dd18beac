# The dataset folder's meta.json: what each stage did, merged from the stages' records.
# (Included last: it reads the records every stage file registered.)


rule dataset_meta:
    input:
        records=lambda wc: expand(STAGE_RECORDS, subject=wc.subject),
    output:
        record="results/subjects/{subject}/meta.json",
    log:
        "logs/dataset_meta/{subject}.log",
    conda:
        "../envs/vision.yaml"
    script:
        "../workflow/scripts/dataset_meta.py"


ALL_TARGETS += expand("results/subjects/{subject}/meta.json", subject=SUBJECTS.index)
