from pose_animate.clean.qa import overlay_video, trajectory_plot
from pose_animate.clean.stage import clean_keypoints
from pose_animate.core.stage import stage_job

with stage_job(snakemake, "clean") as job:
    record = clean_keypoints(job.input.raw, job.output.cleaned, job.settings,
                             net_path=job.params.checkpoint)
    job.save(record, plot=trajectory_plot(job.input.raw, job.output.cleaned,
                                          title=f"{job.subject}: raw vs cleaned"))
    overlay_video(job.input.frames, job.input.frames_record, job.input.raw, job.output.cleaned,
                  job.output.video)
