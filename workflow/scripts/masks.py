from pose_animate.appearance.masks import compute_mask_folder, mask_qa_sheet
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    settings = dict(snakemake.params.cfg)
    backend = settings.pop("backend")
    qa_frames = settings.pop("qa_frames")
    settings.pop("import_dir")  # the rule's input
    compute_mask_folder(snakemake.input.frames, snakemake.input.keypoints,
                        snakemake.output.masks, snakemake.output.record,
                        subject=snakemake.wildcards.subject, backend=backend,
                        import_dir=(snakemake.input.source or [None])[0], **settings)
    mask_qa_sheet(snakemake.input.frames, snakemake.output.masks, snakemake.output.sheet,
                  n_frames=qa_frames)
