from pose_animate.core.stage import stage_job
from pose_animate.renderers.d2g.pretrain import pretrain_transg
from pose_animate.renderers.qa import curves_plot, samples_picture

with stage_job(snakemake, "families.d2g") as job:
    record = pretrain_transg(job.params.folders, job.output.model, job.params.run_dir,
                             job.settings, name=f"TransG on {job.wildcards.dataset}",
                             threads=job.threads)
    job.save(record, curves=curves_plot(record), samples=samples_picture(job.params.run_dir))
