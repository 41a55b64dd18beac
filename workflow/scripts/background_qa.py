from pose_animate.background import plate_qa_picture
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    plate_qa_picture(snakemake.input.frames, snakemake.input.plate, snakemake.input.inpainted,
                     snakemake.input.record, snakemake.output.picture)
