from pose_animate.masks import compute_mask_folder
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    settings = dict(snakemake.params.cfg)
    backend = settings.pop("backend")
    settings.pop("import_dir"), settings.pop("qa_frames")  # the rule's input and the QA rule's
    compute_mask_folder(snakemake.input.frames, snakemake.input.keypoints,
                        snakemake.output.masks, snakemake.output.record,
                        subject=snakemake.wildcards.subject, backend=backend,
                        import_dir=(snakemake.input.source or [None])[0], **settings)
