from pose_animate.core.formats import read_fps
from pose_animate.core.stage import stage_job
from pose_animate.keypoints.qa import keypoints_overlay, keypoints_sheet
from pose_animate.keypoints.stage import find_keypoints

with stage_job(snakemake, "keypoints") as job:
    record = find_keypoints(job.input.frames, job.input.frames_record, job.output.raw,
                            job.settings, source=job.optional("source"))
    keypoints_overlay(job.input.frames, job.output.raw, job.output.video,
                      fps=read_fps(job.input.frames_record))
    job.save(record, sheet=keypoints_sheet(job.input.frames, job.output.raw,
                                           job.settings["qa_frames"]))
