from pose_animate.clean.normalize import normalize_pose
from pose_animate.clean.qa import normalization_plot
from pose_animate.core.stage import stage_job

with stage_job(snakemake, "normalize") as job:
    record = normalize_pose(job.input.driving, job.input.target, job.output.keypoints,
                            job.settings, driving_name=job.wildcards.driving,
                            target_name=job.wildcards.target)
    job.save(record, plot=normalization_plot(job.input.driving, job.input.target,
                                             job.output.keypoints, record))
