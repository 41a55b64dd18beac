from pose_animate.appearance.background import plate_qa_picture, write_plate
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    write_plate(snakemake.input.frames, snakemake.input.masks, snakemake.output.plate,
                snakemake.output.inpainted, snakemake.output.record,
                subject=snakemake.wildcards.subject, **snakemake.params.cfg)
    plate_qa_picture(snakemake.input.frames, snakemake.output.plate, snakemake.output.inpainted,
                     snakemake.output.record, snakemake.output.picture)
