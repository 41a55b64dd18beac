from pose_animate.flow import flow_qa_sheet
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    flow_qa_sheet(snakemake.input.frames, snakemake.input.fwd, snakemake.input.valid,
                  snakemake.output.sheet, n_pairs=snakemake.params.n_pairs)
