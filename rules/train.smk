# Train a renderer for each target of config["renders"], render the driving motions onto it,
# and evaluate it on its held-out frames against the nearest-neighbour baseline.


for _i, _pair in enumerate(config["renders"]):
    for _role in ("target", "driving"):
        if _pair[_role] not in SUBJECTS.index:
            raise WorkflowError(
                f"config renders[{_i}].{_role}: '{_pair[_role]}' is not a subject of "
                f"{config['subjects']}. Fix: add it to the sheet or correct the name."
            )
RENDER_TARGETS = sorted({pair["target"] for pair in config["renders"]})
RENDER_PAIRS = [f"{pair['target']}__{pair['driving']}" for pair in config["renders"]]


rule train:
    input:
        unpack(train_inputs),
    output:
        model="results/models/{subject}/model.pt",
        record="results/models/{subject}/train.json",
        curves=report(
            "results/qa/{subject}/train_curves.png",
            caption="../report/train_curves.rst",
            category="Renderer",
            subcategory="{subject}",
        ),
        samples=report(
            "results/qa/{subject}/train_samples.jpg",
            caption="../report/train_samples.rst",
            category="Renderer",
            subcategory="{subject}",
        ),
    log:
        "logs/train/{subject}.log",
    benchmark:
        "benchmarks/train/{subject}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        cfg=config["train"],
        dataset=lambda wc: f"results/subjects/{wc.subject}",
        run_dir=lambda wc: f"results/work/{wc.subject}/train",
    script:
        "../workflow/scripts/train.py"


rule render:
    input:
        model="results/models/{target}/model.pt",
        keypoints="results/normalized/{target}__{driving}/openpose_json",
        driving_frames="results/subjects/{driving}/frames",
        driving_record="results/work/{driving}/frames.json",
    output:
        video="results/renders/{target}__{driving}/video.mp4",
        compare="results/renders/{target}__{driving}/compare.mp4",
        record="results/renders/{target}__{driving}/render.json",
        stills=report(
            "results/qa/{target}/render_{driving}.jpg",
            caption="../report/render_stills.rst",
            category="Renderer",
            subcategory="{target}",
        ),
    log:
        "logs/render/{target}__{driving}.log",
    benchmark:
        "benchmarks/render/{target}__{driving}.tsv"
    wildcard_constraints:
        target=r"[A-Za-z0-9](?:[A-Za-z0-9.-]|_(?!_))*",
        driving=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        cfg=config["render"],
        device=config["train"]["device"],
    script:
        "../workflow/scripts/render.py"


rule evaluate:
    input:
        model="results/models/{subject}/model.pt",
        frames="results/subjects/{subject}/frames",
        keypoints="results/subjects/{subject}/openpose_json",
        masks="results/subjects/{subject}/mask",
    output:
        metrics="results/eval/{subject}.json",
        table=report(
            "results/qa/{subject}/eval_table.png",
            caption="../report/eval_table.rst",
            category="Renderer",
            subcategory="{subject}",
        ),
        frames=report(
            "results/qa/{subject}/eval_frames.jpg",
            caption="../report/eval_frames.rst",
            category="Renderer",
            subcategory="{subject}",
        ),
    log:
        "logs/evaluate/{subject}.log",
    benchmark:
        "benchmarks/evaluate/{subject}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    resources:
        gpu=1,
    params:
        cfg=config["evaluate"],
        keypoints_cfg=config["keypoints"],
        device=config["train"]["device"],
        dataset=lambda wc: f"results/subjects/{wc.subject}",
        cache_dir=lambda wc: f"results/work/{wc.subject}/train/cache",
    script:
        "../workflow/scripts/evaluate.py"


ALL_TARGETS += expand(
    [
        "results/renders/{pair}/video.mp4",
        "results/renders/{pair}/compare.mp4",
    ],
    pair=RENDER_PAIRS,
)
ALL_TARGETS += [
    f"results/qa/{pair['target']}/render_{pair['driving']}.jpg"
    for pair in config["renders"]
]
ALL_TARGETS += expand(
    [
        "results/eval/{subject}.json",
        "results/qa/{subject}/eval_table.png",
        "results/qa/{subject}/eval_frames.jpg",
        "results/qa/{subject}/train_curves.png",
    ],
    subject=RENDER_TARGETS,
)
