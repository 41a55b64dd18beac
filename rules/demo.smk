# The built-in demo subjects: videos of a procedural figure with exact ground truth.


rule demo_video:
    output:
        video="results/demo/{name}/video.mp4",
        truth=directory("results/demo/{name}/truth"),
    log:
        "logs/demo_video/{name}.log",
    benchmark:
        "benchmarks/demo_video/{name}.tsv"
    conda:
        "../envs/vision.yaml"
    params:
        figure=lambda wc: config["demo"]["figures"][wc.name],
    script:
        "../workflow/scripts/demo_video.py"


rule demo_qa:
    input:
        truth="results/demo/{name}/truth",
    output:
        sheet=report(
            "results/qa/{name}/demo_truth.jpg",
            caption="../report/demo_truth.rst",
            category="Demo subjects",
            subcategory="{name}",
        ),
    log:
        "logs/demo_qa/{name}.log",
    conda:
        "../envs/vision.yaml"
    script:
        "../workflow/scripts/demo_qa.py"


ALL_TARGETS += expand("results/qa/{name}/demo_truth.jpg", name=config["demo"]["figures"])
