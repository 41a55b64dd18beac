import os

# Before torch loads OpenMP: threads that spin at barriers make CPU training 10-25x slower
# when other jobs share the cores (measured with bench/bench_train.py); waiting passively
# costs little when they do not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pose_animate.devices import allocate_gpu
from pose_animate.evaluate import evaluate, keypoint_detector
from pose_animate.formats import write_json
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    with allocate_gpu():
        result = evaluate(
            snakemake.input.model, snakemake.params.dataset, snakemake.params.cache_dir,
            lambda: keypoint_detector(snakemake.params.keypoints_cfg),
            subject=snakemake.wildcards.subject, device=snakemake.params.device,
            frames_path=snakemake.output.frames, table_path=snakemake.output.table,
            n_shown=snakemake.params.cfg["shown_frames"])
    write_json(snakemake.output.metrics, result)
