import os

# Before torch loads OpenMP: threads spinning at barriers make CPU training 2-25x slower when
# other jobs share the cores; a short spin keeps the speed of an idle machine (measured with
# bench/bench_train.py: 211 ms a step idle as when spinning, 447 instead of 1013 ms with two
# busy processes).
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from pose_animate.core.devices import allocate_gpu
from pose_animate.core.formats import write_json
from pose_animate.core.runlog import to_log
from pose_animate.renderers.engine import train

with to_log(snakemake.log[0]):
    with allocate_gpu():
        record = train(snakemake.params.dataset, snakemake.output.model,
                       snakemake.params.run_dir, snakemake.params.cfg,
                       subject=snakemake.wildcards.subject, threads=snakemake.threads,
                       curves_path=snakemake.output.curves,
                       samples_path=snakemake.output.samples)
    write_json(snakemake.output.record, record)
