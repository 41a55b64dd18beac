import os

# Before torch loads OpenMP: threads spinning at barriers make CPU training 2-25x slower when
# other jobs share the cores; a short spin keeps the speed of an idle machine (measured with
# bench/bench_train.py: 211 ms a step idle as when spinning, 447 instead of 1013 ms with two
# busy processes).
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from pose_animate.core.devices import allocate_gpu
from pose_animate.core.formats import write_json
from pose_animate.renderers.render import render_driving, subject_fps
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    with allocate_gpu():
        record = render_driving(
            snakemake.input.model, snakemake.input.keypoints, snakemake.input.driving_frames,
            snakemake.output.video, snakemake.output.compare,
            fps=subject_fps(snakemake.input.driving_record),
            missing=snakemake.params.cfg["missing"], device=snakemake.params.device,
            stills_path=snakemake.output.stills, n_stills=snakemake.params.cfg["stills"],
            pair=f"{snakemake.wildcards.target}__{snakemake.wildcards.driving}")
    write_json(snakemake.output.record, record)
