from pose_animate.densepose.qa import iuv_sheet
from pose_animate.formats import list_frames, write_image
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    frames = list_frames(snakemake.input.frames)
    sheet = iuv_sheet(frames, snakemake.input.iuv, snakemake.params.cfg["qa_frames"])
    write_image(snakemake.output.sheet, sheet)
