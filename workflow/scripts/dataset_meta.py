from pathlib import Path

from pose_animate.core.formats import read_json, write_json
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    meta = {"subject": snakemake.wildcards.subject}
    for record in snakemake.input.records:
        meta[Path(record).stem] = read_json(record)
    write_json(snakemake.output[0], meta)
