from pose_animate.clean.qa import normalization_plot
from pose_animate.clean.normalize import normalize_folder
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    target, driving = snakemake.wildcards.target, snakemake.wildcards.driving
    raw, normalized, goal, record = normalize_folder(
        snakemake.input.driving, snakemake.input.target, snakemake.output.keypoints,
        snakemake.output.record, driving_name=driving, target_name=target,
        **snakemake.params.cfg)
    normalization_plot(raw, normalized, goal, record, snakemake.output.plot,
                       title=f"{driving} normalized onto {target}")
