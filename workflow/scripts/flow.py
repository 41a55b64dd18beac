from pose_animate.appearance.flow import LEARNED, compute_flow, flow_sheet
from pose_animate.core.stage import stage_job

with stage_job(snakemake, "flow") as job:
    network = None
    if job.settings["method"] in LEARNED:  # torch is imported only for these
        from pose_animate.appearance.learned_flow import LearnedFlow

        network = LearnedFlow(job.settings)
    record = compute_flow(job.input.frames, job.output.fwd, job.output.bwd, job.output.valid,
                          job.settings, source=job.optional("source"), network=network,
                          workers=job.threads)
    job.save(record, sheet=flow_sheet(job.input.frames, job.output.fwd, job.output.valid,
                                      job.settings["qa_pairs"]))
