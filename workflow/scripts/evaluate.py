import os

# Before torch loads OpenMP: threads spinning at barriers make CPU training 2-25x slower when
# other jobs share the cores; a short spin keeps the speed of an idle machine (measured with
# bench/bench_train.py: 211 ms a step idle as when spinning, 447 instead of 1013 ms with two
# busy processes).
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from pose_animate.core.devices import allocate_gpu
from pose_animate.renderers.evaluate import evaluate, keypoint_detector
from pose_animate.core.formats import write_json
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    with allocate_gpu():
        result = evaluate(
            snakemake.input.model, snakemake.params.dataset, snakemake.params.cache_dir,
            lambda: keypoint_detector(snakemake.params.keypoints_cfg),
            subject=snakemake.wildcards.subject, device=snakemake.params.device,
            frames_path=snakemake.output.frames, table_path=snakemake.output.table,
            n_shown=snakemake.params.cfg["shown_frames"])
    write_json(snakemake.output.metrics, result)
