from pose_animate.densepose.qa import atlas_picture, rerender_sheet
from pose_animate.core.formats import list_frames, read_image, write_image, write_json
from pose_animate.core.runlog import to_log
from pose_animate.densepose.texture import build_texture

with to_log(snakemake.log[0]):
    cfg = snakemake.params.cfg
    record = build_texture(
        snakemake.input.frames,
        snakemake.input.iuv,
        snakemake.output.texture,
        frame_step=cfg["frame_step"],
        neighbour_prior=cfg["neighbour_prior"],
        jpeg_quality=cfg["jpeg_quality"],
        subject=snakemake.wildcards.subject,
    )
    write_json(snakemake.output.record, record)
    # the QA shows the JPEG as written (what the dataset holds), not the in-memory atlas
    texture = read_image(snakemake.output.texture)
    write_image(snakemake.output.atlas, atlas_picture(texture, record["coverage"]))
    frames = list_frames(snakemake.input.frames)
    write_image(snakemake.output.rerender,
                rerender_sheet(frames, snakemake.input.iuv, texture, cfg["qa_frames"]))
