from pose_animate.core.stage import stage_job
from pose_animate.densepose.qa import atlas_picture, rerender_sheet
from pose_animate.densepose.texture import build_texture

with stage_job(snakemake, "texture") as job:
    record = build_texture(job.input.frames, job.input.iuv, job.output.texture, job.settings)
    job.save(record, atlas=atlas_picture(job.output.texture, record),
             rerender=rerender_sheet(job.input.frames, job.input.iuv, job.output.texture,
                                     job.settings["qa_frames"]))
