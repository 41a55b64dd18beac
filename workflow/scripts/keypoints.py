from pose_animate.core.formats import read_json
from pose_animate.keypoints.qa import keypoints_overlay, keypoints_sheet
from pose_animate.keypoints.stage import run_keypoints
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    subject = snakemake.wildcards.subject
    cfg = snakemake.params.cfg
    run_keypoints(snakemake.input.frames, snakemake.input.frames_record, snakemake.output.raw,
                  snakemake.output.record, cfg, source=(snakemake.input.source or [None])[0],
                  subject=subject)
    keypoints_sheet(snakemake.input.frames, snakemake.output.raw, snakemake.output.sheet,
                    n_frames=cfg["qa_frames"], subject=subject)
    keypoints_overlay(snakemake.input.frames, snakemake.output.raw, snakemake.output.video,
                      fps=read_json(snakemake.input.frames_record)["fps"], subject=subject)
