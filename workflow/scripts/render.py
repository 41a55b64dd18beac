from pose_animate.core.formats import read_fps
from pose_animate.core.stage import stage_job
from pose_animate.renderers.qa import render_stills
from pose_animate.renderers.render import render_driving

with stage_job(snakemake, "render") as job:
    rendering = render_driving(job.input.model, job.input.keypoints, job.input.driving_frames,
                               job.output.frames, job.output.iuv, job.output.video,
                               job.output.compare, job.settings,
                               fps=read_fps(job.input.driving_record),
                               device=job.params.device)
    job.save(rendering.record, stills=render_stills(rendering.stills))
