from pose_animate.keypoints.stage import run_keypoints
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    run_keypoints(snakemake.input.frames, snakemake.input.frames_record, snakemake.output.raw,
                  snakemake.output.record, snakemake.params.cfg,
                  source=(snakemake.input.source or [None])[0],
                  subject=snakemake.wildcards.subject)
