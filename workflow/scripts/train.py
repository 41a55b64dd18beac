import os

# Before torch loads OpenMP: threads that spin at barriers make CPU training 10-25x slower
# when other jobs share the cores (measured with bench/bench_train.py); waiting passively
# costs little when they do not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pose_animate.devices import allocate_gpu
from pose_animate.formats import write_json
from pose_animate.runlog import to_log
from pose_animate.train import train

with to_log(snakemake.log[0]):
    with allocate_gpu():
        record = train(snakemake.params.dataset, snakemake.output.model,
                       snakemake.params.run_dir, snakemake.params.cfg,
                       subject=snakemake.wildcards.subject, threads=snakemake.threads,
                       curves_path=snakemake.output.curves,
                       samples_path=snakemake.output.samples)
    write_json(snakemake.output.record, record)
