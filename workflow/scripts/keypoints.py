from pose_animate.core.formats import read_json
from pose_animate.core.stage import stage_job
from pose_animate.keypoints.qa import keypoints_overlay, keypoints_sheet
from pose_animate.keypoints.stage import find_keypoints

with stage_job(snakemake, "keypoints") as job:
    record = find_keypoints(job.input.frames, job.input.frames_record, job.output.raw,
                            job.settings, source=job.source)
    keypoints_overlay(job.input.frames, job.output.raw, job.output.video,
                      fps=read_json(job.input.frames_record)["fps"])
    job.save(record, sheet=keypoints_sheet(job.input.frames, job.output.raw,
                                           job.settings["qa_frames"]))
