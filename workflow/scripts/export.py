from pose_animate.core.stage import stage_job
from pose_animate.export.stage import export, export_sheet

with stage_job(snakemake, "export") as job:
    record = export(job.wildcards.layout, job.params.plan, job.output.folder, job.settings)
    job.save(record, sheet=export_sheet(job.output.folder))
