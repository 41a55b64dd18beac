from pathlib import Path

from pose_animate.runlog import to_log
from pose_animate.synth import write_demo

with to_log(snakemake.log[0]):
    out_dir = Path(snakemake.output.video).parent
    assert Path(snakemake.output.truth) == out_dir / "truth", "rule outputs out of step"
    write_demo(out_dir, **snakemake.params.figure)
