# Clean the raw keypoints into the dataset's openpose_json/ (the same job draws the QA plot and
# overlay video), train the optional motion net, and put each driving skeleton into its render
# target's body frame.

MOTION_NET = config["motion_net"]["checkpoint"] or "results/models/motion_net.pt"


rule clean_keypoints:
    input:
        raw="results/work/{subject}/keypoints_raw",
        frames="results/subjects/{subject}/frames",
        frames_record="results/work/{subject}/frames.json",
        # The motion net when the config names one; cleaning is classical without.
        net=[MOTION_NET] if config["motion_net"]["checkpoint"] else [],
    output:
        cleaned=directory("results/subjects/{subject}/openpose_json"),
        record="results/work/{subject}/clean.json",
        plot=report(
            "results/qa/{subject}/clean_trajectories.png",
            caption="../report/clean_trajectories.rst",
            category="Keypoints",
            subcategory="{subject}",
        ),
        video="results/qa/{subject}/clean_overlay.mp4",
    log:
        "logs/clean_keypoints/{subject}.log",
    benchmark:
        "benchmarks/clean_keypoints/{subject}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    params:
        cfg=config["clean"],
        checkpoint=config["motion_net"]["checkpoint"],
    script:
        "../workflow/scripts/clean_keypoints.py"


rule train_motion_net:
    input:
        sources=config["motion_net"]["training"]["sources"],
        npz=[
            p
            for p in (
                config["motion_net"]["training"]["videopose3d_gt"],
                config["motion_net"]["training"]["videopose3d_detections"],
            )
            if p
        ],
    output:
        checkpoint=MOTION_NET,
        record=MOTION_NET.rsplit(".", 1)[0] + ".json",
    log:
        "logs/train_motion_net.log",
    benchmark:
        "benchmarks/train_motion_net.tsv"
    conda:
        "../envs/train.yaml"
    threads: 2
    params:
        cfg=config["motion_net"],
        clean=config["clean"],
    script:
        "../workflow/scripts/train_motion_net.py"


rule gesture_keypoints:
    input:
        lambda wc: GESTURES[wc.driving]["gestures"],
    output:
        keypoints=directory("results/work/gestures/{driving}/openpose_json"),
        record="results/work/gestures/{driving}/gestures.json",
    log:
        "logs/gesture_keypoints/{driving}.log",
    wildcard_constraints:
        driving="|".join(map(re.escape, GESTURES)) or "(?!)",
    conda:
        "../envs/vision.yaml"
    script:
        "../workflow/scripts/gesture_keypoints.py"


rule normalize_pose:
    input:
        driving=driving_keypoints,
        target=lambda wc: f"{person_folder(wc.target)}/openpose_json",
    output:
        keypoints=directory("results/normalized/{target}__{driving}/openpose_json"),
        record="results/normalized/{target}__{driving}/normalize.json",
        plot=report(
            "results/qa/{target}/normalize_{driving}.png",
            caption="../report/normalize.rst",
            category="Normalization",
            subcategory="{target}",
        ),
    log:
        "logs/normalize_pose/{target}__{driving}.log",
    conda:
        "../envs/vision.yaml"
    params:
        cfg=config["normalize"],
    script:
        "../workflow/scripts/normalize_pose.py"


STAGE_RECORDS.append("results/work/{subject}/clean.json")
ALL_TARGETS += expand(
    [
        "results/qa/{subject}/clean_trajectories.png",
        "results/qa/{subject}/clean_overlay.mp4",
    ],
    subject=SUBJECTS.index,
)
ALL_TARGETS += [
    f"results/normalized/{pair['target']}__{driving_name(pair)}/normalize.json"
    for pair in config["renders"]
]
