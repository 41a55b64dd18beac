# DensePose-style IUV per frame (skeleton backend by default; detectron2 or import) and the
# unfolded 24-part body texture; each job also draws its QA pictures.


rule densepose:
    input:
        frames="results/subjects/{subject}/frames",
        keypoints="results/subjects/{subject}/openpose_json",
        masks=densepose_masks,
        source=densepose_import,
    output:
        iuv=directory("results/subjects/{subject}/densepose"),
        record="results/work/{subject}/densepose.json",
        sheet=report(
            "results/qa/{subject}/densepose_sheet.jpg",
            caption="../report/densepose_sheet.rst",
            category="DensePose",
            subcategory="{subject}",
        ),
    log:
        "logs/densepose/{subject}.log",
    benchmark:
        "benchmarks/densepose/{subject}.tsv"
    conda:
        "../envs/densepose.yaml"
    threads: 1
    resources:
        gpu=stage_gpus("densepose"),
    params:
        cfg=stage_params("densepose"),
    script:
        "../workflow/scripts/densepose.py"


rule texture:
    input:
        frames="results/subjects/{subject}/frames",
        iuv="results/subjects/{subject}/densepose",
    output:
        texture="results/subjects/{subject}/texture.jpg",
        record="results/work/{subject}/texture.json",
        atlas=report(
            "results/qa/{subject}/texture_atlas.jpg",
            caption="../report/texture_atlas.rst",
            category="Texture",
            subcategory="{subject}",
        ),
        rerender=report(
            "results/qa/{subject}/texture_rerender.jpg",
            caption="../report/texture_rerender.rst",
            category="Texture",
            subcategory="{subject}",
        ),
    log:
        "logs/texture/{subject}.log",
    benchmark:
        "benchmarks/texture/{subject}.tsv"
    conda:
        "../envs/vision.yaml"
    params:
        cfg=config["texture"],
    script:
        "../workflow/scripts/texture.py"


STAGE_RECORDS.append("results/work/{subject}/densepose.json")
STAGE_RECORDS.append("results/work/{subject}/texture.json")
ALL_TARGETS += expand(
    [
        "results/qa/{subject}/densepose_sheet.jpg",
        "results/qa/{subject}/texture_atlas.jpg",
        "results/qa/{subject}/texture_rerender.jpg",
    ],
    subject=SUBJECTS.index,
)
