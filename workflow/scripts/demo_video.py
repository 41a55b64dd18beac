from pose_animate.core.stage import stage_job
from pose_animate.synth.demo import demo_video
from pose_animate.synth.qa import truth_sheet

with stage_job(snakemake) as job:
    demo_video(job.output.video, job.output.truth, job.params.figure)
    job.save(sheet=truth_sheet(job.output.truth))
