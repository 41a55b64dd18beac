from pathlib import Path

from pose_animate.core.runlog import to_log
from pose_animate.synth import write_demo
from pose_animate.synth.qa import truth_sheet

with to_log(snakemake.log[0]):
    # the rule's outputs are {dir}/video.mp4 and {dir}/truth, the layout write_demo makes
    write_demo(Path(snakemake.output.video).parent, **snakemake.params.figure)
    truth_sheet(snakemake.output.truth, snakemake.output.sheet)
