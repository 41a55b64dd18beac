from pose_animate.clean import clean_folder
from pose_animate.errors import PoseAnimateError
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    net = None
    if snakemake.params.checkpoint:
        from pose_animate.motion_net import load_motion_net

        try:
            net = load_motion_net(snakemake.params.checkpoint)
        except PoseAnimateError as exc:
            raise exc.for_subject(snakemake.wildcards.subject)
    clean_folder(snakemake.input.raw, snakemake.output.cleaned, snakemake.output.record,
                 subject=snakemake.wildcards.subject, net=net, **snakemake.params.cfg)
