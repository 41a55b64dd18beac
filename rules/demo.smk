# The built-in demo subjects: videos of a procedural figure with exact ground truth, and the
# truth's QA sheet.


rule demo_video:
    output:
        video="results/demo/{name}/video.mp4",
        truth=directory("results/demo/{name}/truth"),
        sheet=report(
            "results/qa/{name}/demo_truth.jpg",
            caption="../report/demo_truth.rst",
            category="Demo subjects",
            subcategory="{name}",
        ),
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


ALL_TARGETS += expand(
    "results/qa/{name}/demo_truth.jpg", name=config["demo"]["figures"]
)
