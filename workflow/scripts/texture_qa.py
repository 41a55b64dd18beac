from pose_animate.densepose.qa import atlas_picture, rerender_sheet
from pose_animate.formats import list_frames, read_image, read_json, write_image
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    frames = list_frames(snakemake.input.frames)
    texture = read_image(snakemake.input.texture)
    coverage = read_json(snakemake.input.record)["coverage"]
    write_image(snakemake.output.atlas, atlas_picture(texture, coverage))
    sheet = rerender_sheet(frames, snakemake.input.iuv, texture, snakemake.params.cfg["qa_frames"])
    write_image(snakemake.output.rerender, sheet)
