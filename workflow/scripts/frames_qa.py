from pose_animate.formats import read_json
from pose_animate.frames import crop_qa_sheet
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    crop_qa_sheet(snakemake.input.video, read_json(snakemake.input.record),
                  snakemake.input.frames, snakemake.output.sheet)
