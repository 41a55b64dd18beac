from pose_animate.runlog import to_log
from pose_animate.synth.qa import truth_sheet

with to_log(snakemake.log[0]):
    truth_sheet(snakemake.input.truth, snakemake.output.sheet)
