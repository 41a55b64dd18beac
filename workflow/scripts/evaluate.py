from pose_animate.core.stage import stage_job
from pose_animate.renderers.evaluate import evaluate
from pose_animate.renderers.qa import eval_frames, eval_table

with stage_job(snakemake, "evaluate") as job:
    evaluation = evaluate(job.input.model, job.params.folder, job.params.cache_dir,
                          job.params.keypoints_cfg, valid_dir=job.input.valid,
                          device=job.params.device, n_shown=job.settings["shown_frames"])
    record = job.stamp(evaluation.record)  # the table shows what made it
    job.save(record, table=eval_table(record), frames=eval_frames(evaluation.shown))
