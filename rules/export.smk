# Exports: the cached stages in other codebases' folder layouts, results/export/{layout}/{name}/
# for each entry of exports: (a subject or a dataset). `snakemake export` builds them all.
# Library: pose_animate/export/ (one module per layout, named for its consumer).


rule export_layout:
    input:
        export_inputs,
    output:
        folder=directory("results/export/{layout}/{name}"),
        record="results/work/export/{layout}/{name}.json",
        sheet=report(
            "results/qa/{name}/export_{layout}.jpg",
            caption="../report/export_sheet.rst",
            category="Exports",
            subcategory="{name}",
        ),
    log:
        "logs/export/{layout}/{name}.log",
    benchmark:
        "benchmarks/export/{layout}/{name}.tsv"
    wildcard_constraints:
        layout="|".join(EXPORT_LAYOUTS),
    conda:
        "../envs/vision.yaml"
    params:
        cfg=export_settings,
        plan=export_plan,
    script:
        "../workflow/scripts/export.py"


EXPORT_TARGETS = [f"results/export/{layout}/{name}" for layout, name in EXPORTS]


rule export:
    input:
        EXPORT_TARGETS,


ALL_TARGETS += EXPORT_TARGETS
