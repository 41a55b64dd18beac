from pose_animate.appearance.masks import compute_masks, mask_sheet
from pose_animate.core.stage import stage_job

with stage_job(snakemake, "masks") as job:
    record = compute_masks(job.input.frames, job.input.keypoints, job.output.masks,
                           job.settings, source=job.optional("source"))
    job.save(record, sheet=mask_sheet(job.input.frames, job.output.masks,
                                      job.settings["qa_frames"]))
