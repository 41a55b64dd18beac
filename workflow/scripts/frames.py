from pose_animate.core.formats import write_json
from pose_animate.frames.extract import crop_qa_sheet, extract_frames
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    record = extract_frames(snakemake.input.video, snakemake.output.frames,
                            threads=snakemake.threads, subject=snakemake.wildcards.subject,
                            **snakemake.params.cfg)
    write_json(snakemake.output.record, record)
    crop_qa_sheet(snakemake.input.video, record, snakemake.output.frames, snakemake.output.sheet)
