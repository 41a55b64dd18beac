import torch

from pose_animate.clean.motion_train import train_from_config
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    train_from_config(snakemake.output.checkpoint, snakemake.params.net,
                      snakemake.params.clean, snakemake.output.record)
