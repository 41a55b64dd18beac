from pose_animate.core.stage import stage_job
from pose_animate.frames.extract import extract_frames
from pose_animate.frames.qa import crop_sheet

with stage_job(snakemake, "frames") as job:
    record = extract_frames(job.input.video, job.output.frames, job.settings,
                            threads=job.threads)
    job.save(record, sheet=crop_sheet(job.input.video, record, job.output.frames))
