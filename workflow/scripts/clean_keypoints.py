from pose_animate.clean import clean_folder
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    clean_folder(snakemake.input.raw, snakemake.output.cleaned, snakemake.output.record,
                 subject=snakemake.wildcards.subject, net_checkpoint=snakemake.params.checkpoint,
                 **snakemake.params.cfg)
