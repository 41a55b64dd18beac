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
