from pose_animate.formats import read_json
from pose_animate.keypoints.qa import keypoints_overlay, keypoints_sheet
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    subject = snakemake.wildcards.subject
    keypoints_sheet(snakemake.input.frames, snakemake.input.raw, snakemake.output.sheet,
                    n_frames=snakemake.params.cfg["qa_frames"], subject=subject)
    keypoints_overlay(snakemake.input.frames, snakemake.input.raw, snakemake.output.video,
                      fps=read_json(snakemake.input.frames_record)["fps"], subject=subject)
