from pathlib import Path

from pose_animate.runlog import to_log
from pose_animate.synth import write_demo

with to_log(snakemake.log[0]):
    # the rule's outputs are {dir}/video.mp4 and {dir}/truth, the layout write_demo makes
    write_demo(Path(snakemake.output.video).parent, **snakemake.params.figure)
