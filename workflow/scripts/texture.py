from pose_animate.formats import write_json
from pose_animate.runlog import to_log
from pose_animate.texture import build_texture

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
