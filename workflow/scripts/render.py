from pose_animate.core.formats import read_fps
from pose_animate.core.stage import stage_job
from pose_animate.renderers.qa import render_stills
from pose_animate.renderers.render import render_driving

with stage_job(snakemake, "render") as job:
    record = job.optional("driving_record")  # none for a gesture file
    rendering = render_driving(job.input.model, job.input.keypoints,
                               job.optional("driving_frames"), job.output.frames,
                               job.output.iuv, job.output.video, job.output.compare,
                               job.settings, fps=read_fps(record) if record else job.params.fps,
                               device=job.params.device)
    job.save(rendering.record, stills=render_stills(rendering.stills))
