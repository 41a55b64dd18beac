from pose_animate.core.stage import stage_job
from pose_animate.renderers.engine import train
from pose_animate.renderers.qa import curves_plot, samples_picture

with stage_job(snakemake, f"families.{snakemake.wildcards.family}") as job:
    record = train(job.wildcards.family, job.params.folders, job.output.model,
                   job.params.run_dir, job.settings, name=job.wildcards.name,
                   threads=job.threads, init=job.optional("init"))
    job.save(record, curves=curves_plot(record), samples=samples_picture(job.params.run_dir))
