from pose_animate.core.formats import read_fps
from pose_animate.core.stage import stage_job
from pose_animate.renderers.qa import render_stills
from pose_animate.renderers.render import render_driving

with stage_job(snakemake, "render") as job:
    record = job.optional("driving_record")  # none for a gesture file
    given = list(getattr(job.input, "source", []))
    # the person a family learnt from a dataset animates: its frames and keypoints, then a
    # subject's densepose and plate (a photo has none)
    source = (*given[:2], job.params.source_frame, *given[2:]) if given else None
    rendering = render_driving(job.input.model, job.input.keypoints,
                               job.optional("driving_frames"), job.output.frames,
                               job.output.iuv, job.output.video, job.output.compare,
                               job.settings, fps=read_fps(record) if record else job.params.fps,
                               device=job.params.device, source=source)
    job.save(rendering.record, stills=render_stills(rendering.stills))
