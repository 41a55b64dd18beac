from pose_animate.clean.motion_train import train_motion_net_stage
from pose_animate.core.stage import stage_job

with stage_job(snakemake, "motion_net") as job:
    job.save(train_motion_net_stage(job.output.checkpoint, job.settings, job.params.clean,
                                    threads=job.threads))
