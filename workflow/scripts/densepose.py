from pose_animate.core.stage import stage_job
from pose_animate.densepose.qa import iuv_sheet
from pose_animate.densepose.stage import densepose_iuv

with stage_job(snakemake, "densepose") as job:
    record = densepose_iuv(job.input.frames, job.input.keypoints, job.output.iuv,
                           job.settings, masks=job.optional("masks"),
                           source=job.optional("source"))
    job.save(record, sheet=iuv_sheet(job.input.frames, job.output.iuv,
                                     job.settings["qa_frames"]))
