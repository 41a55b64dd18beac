from pose_animate.core.stage import stage_job
from pose_animate.renderers.source_image import prepare_source_image

with stage_job(snakemake, "frames") as job:
    record = prepare_source_image(job.input.image, job.output.frames, job.output.keypoints,
                                  job.settings, job.params.keypoints_cfg)
    job.save(record)
