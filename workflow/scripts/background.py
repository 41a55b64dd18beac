from pose_animate.appearance.background import plate_picture, write_plate
from pose_animate.core.stage import stage_job

with stage_job(snakemake, "background") as job:
    record = write_plate(job.input.frames, job.input.masks, job.output.plate,
                         job.output.inpainted, job.settings)
    job.save(record, picture=plate_picture(job.input.frames, job.output.plate,
                                           job.output.inpainted, record))
