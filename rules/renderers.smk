# Renderer families: train each model of config["models"] (a subject's renderer, or a model
# learnt from a dataset of subjects), evaluate it on data it never saw against its baselines,
# and render the driving motions of config["renders"] onto it. Library: pose_animate/renderers/.


rule train:
    input:
        parts=model_inputs,
        init=pretrained,
    output:
        model="results/models/{family}/{name}/model.pt",
        record="results/models/{family}/{name}/train.json",
        curves=report(
            "results/qa/{name}/{family}/train_curves.png",
            caption="../report/train_curves.rst",
            category="Renderer",
            subcategory="{name}",
        ),
        samples=report(
            "results/qa/{name}/{family}/train_samples.jpg",
            caption="../report/train_samples.rst",
            category="Renderer",
            subcategory="{name}",
        ),
    log:
        "logs/train/{family}/{name}.log",
    benchmark:
        "benchmarks/train/{family}/{name}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=lambda wc: train_gpus(wc.family),
    params:
        cfg=lambda wc: config["families"][wc.family],
        folders=lambda wc: subject_folders(MODELS[(wc.family, wc.name)]["train"]),
        run_dir=lambda wc: f"results/work/models/{wc.family}/{wc.name}",
    script:
        "../workflow/scripts/train.py"


rule pretrain_transg:
    input:
        lambda wc: model_parts(
            "d2g", config["datasets"][wc.dataset]["train"], surface_only=True
        ),
    output:
        model="results/models/d2g/pretrain/{dataset}/model.pt",
        record="results/models/d2g/pretrain/{dataset}/train.json",
        curves="results/qa/{dataset}/d2g/pretrain_curves.png",
        samples="results/qa/{dataset}/d2g/pretrain_samples.jpg",
    log:
        "logs/pretrain_transg/{dataset}.log",
    benchmark:
        "benchmarks/pretrain_transg/{dataset}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=train_gpus("d2g"),
    params:
        cfg=config["families"]["d2g"],
        folders=lambda wc: subject_folders(config["datasets"][wc.dataset]["train"]),
        run_dir=lambda wc: f"results/work/models/d2g/pretrain/{wc.dataset}",
    script:
        "../workflow/scripts/pretrain_transg.py"


rule source_image:
    input:
        image=lambda wc: IMAGE_SOURCES[wc.source],
    output:
        frames=directory("results/sources/{source}/frames"),
        keypoints=directory("results/sources/{source}/openpose_json"),
        record="results/work/sources/{source}/source.json",
    log:
        "logs/source_image/{source}.log",
    benchmark:
        "benchmarks/source_image/{source}.tsv"
    wildcard_constraints:
        source="image-[^/]+",
    conda:
        "../envs/vision.yaml"
    params:
        cfg=config["frames"],
        keypoints_cfg=config["keypoints"],
    script:
        "../workflow/scripts/source_image.py"


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        record="results/eval/{family}/{name}.json",
        table=report(
            "results/qa/{name}/{family}/eval_table.png",
            caption="../report/eval_table.rst",
            category="Renderer",
            subcategory="{name}",
        ),
        frames=report(
            "results/qa/{name}/{family}/eval_frames.jpg",
            caption="../report/eval_frames.rst",
            category="Renderer",
            subcategory="{name}",
        ),
    log:
        "logs/evaluate/{family}/{name}.log",
    benchmark:
        "benchmarks/evaluate/{family}/{name}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        cfg=config["evaluate"],
        keypoints_cfg=config["keypoints"],
        device=lambda wc: config["families"][wc.family]["device"],
        scope=lambda wc: MODELS[(wc.family, wc.name)]["scope"],
        folders=lambda wc: subject_folders(MODELS[(wc.family, wc.name)]["test"]),
        cache_dir=lambda wc: f"results/work/models/{wc.family}/{wc.name}/cache",
    script:
        "../workflow/scripts/evaluate.py"


rule render:
    input:
        model=render_model,
        # the person animated, for a family learnt from a dataset (gfla)
        source=render_source,
        keypoints="results/normalized/{target}__{driving}/openpose_json",
        driving_frames=driving_video("frames"),
        driving_record=driving_video("record"),
    output:
        frames=directory("results/renders/{family}/{target}__{driving}/frames"),
        # the predicted IUV of each frame, for families that predict one (d2g)
        iuv=directory("results/renders/{family}/{target}__{driving}/iuv"),
        video="results/renders/{family}/{target}__{driving}/video.mp4",
        compare="results/renders/{family}/{target}__{driving}/compare.mp4",
        record="results/renders/{family}/{target}__{driving}/render.json",
        stills=report(
            "results/qa/{target}/{family}/render_{driving}.jpg",
            caption="../report/render_stills.rst",
            category="Renderer",
            subcategory="{target}",
        ),
    log:
        "logs/render/{family}/{target}__{driving}.log",
    benchmark:
        "benchmarks/render/{family}/{target}__{driving}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        cfg=config["render"],
        device=lambda wc: config["families"][wc.family]["device"],
        # a gesture file's frame rate (a driving subject's is its video's)
        fps=lambda wc: GESTURES[wc.driving]["fps"] if wc.driving in GESTURES else None,
        source_frame=lambda wc: RENDERS[(wc.family, wc.target, wc.driving)][
            "source_frame"
        ],
    script:
        "../workflow/scripts/render.py"


for _m in MODELS.values():
    ALL_TARGETS += [
        f"results/eval/{_m['family']}/{_m['name']}.json",
        *[
            f"results/qa/{_m['name']}/{_m['family']}/{picture}"
            for picture in (
                "train_curves.png",
                "train_samples.jpg",
                "eval_table.png",
                "eval_frames.jpg",
            )
        ],
    ]
for _r in config["renders"]:
    _pair = f"{_r['family']}/{_r['target']}__{driving_name(_r)}"
    ALL_TARGETS += [
        f"results/renders/{_pair}/video.mp4",
        f"results/renders/{_pair}/compare.mp4",
        f"results/qa/{_r['target']}/{_r['family']}/render_{driving_name(_r)}.jpg",
    ]
