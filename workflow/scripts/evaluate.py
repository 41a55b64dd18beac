from pose_animate.core.stage import stage_job
from pose_animate.renderers.evaluate import evaluate
from pose_animate.renderers.evaluate_dataset import evaluate_dataset
from pose_animate.renderers.qa import eval_frames, eval_table

with stage_job(snakemake, "evaluate") as job:
    shown = job.settings["shown_frames"]
    if job.params.scope == "dataset":  # on the dataset's test subjects
        evaluation = evaluate_dataset(job.input.model, job.params.folders, job.params.cache_dir,
                                      job.params.keypoints_cfg, valid_dirs=list(job.input.valid),
                                      device=job.params.device, n_shown=shown)
    else:  # on the subject's held-out frames
        evaluation = evaluate(job.input.model, job.params.folders[0], job.params.cache_dir,
                              job.params.keypoints_cfg, valid_dir=job.input.valid,
                              device=job.params.device, n_shown=shown)
    record = job.stamp(evaluation.record)  # the table shows what made it
    job.save(record, table=eval_table(record), frames=eval_frames(evaluation.shown))
