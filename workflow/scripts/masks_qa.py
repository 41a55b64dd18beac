from pose_animate.masks import mask_qa_sheet
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    mask_qa_sheet(snakemake.input.frames, snakemake.input.masks, snakemake.output.sheet,
                  n_frames=snakemake.params.n_frames)
