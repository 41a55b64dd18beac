from pose_animate.densepose.qa import iuv_sheet
from pose_animate.densepose.stage import densepose_folder
from pose_animate.core.formats import list_frames, write_image, write_json
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    cfg = snakemake.params.cfg
    subject = snakemake.wildcards.subject
    import_path = cfg["import_path"]
    record = densepose_folder(
        snakemake.input.frames,
        snakemake.input.keypoints,
        snakemake.output.iuv,
        backend=cfg["backend"],
        mask_dir=snakemake.input.masks[0] if snakemake.input.masks else None,
        import_path=import_path.format(subject=subject) if import_path else None,
        detectron2_config=cfg["detectron2_config"],
        detectron2_weights=cfg["detectron2_weights"],
        min_score=cfg["min_score"],
        device=cfg["device"],
        subject=subject,
    )
    write_json(snakemake.output.record, record)
    frames = list_frames(snakemake.input.frames)
    write_image(snakemake.output.sheet, iuv_sheet(frames, snakemake.output.iuv, cfg["qa_frames"]))
