from pathlib import Path

from pose_animate.core.formats import read_json
from pose_animate.core.runlog import log
from pose_animate.core.stage import stage_job

with stage_job(snakemake) as job:
    # meta.json: each stage's record under the stage's name
    meta = {"subject": job.subject}
    for record in job.input.records:
        meta[Path(record).stem] = read_json(record)
    job.save(meta)
    log.info("meta.json: the records of %d stages -> %s", len(job.input.records),
             job.output.record)
