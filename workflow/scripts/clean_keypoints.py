from pose_animate.clean.filters import clean_folder
from pose_animate.clean.qa import overlay_video, trajectory_plot
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_json, read_openpose_folder
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    subject = snakemake.wildcards.subject
    net = None
    if snakemake.params.checkpoint:
        from pose_animate.clean.motion_net import load_motion_net

        try:
            net = load_motion_net(snakemake.params.checkpoint)
        except PoseAnimateError as exc:
            raise exc.for_subject(subject)
    clean_folder(snakemake.input.raw, snakemake.output.cleaned, snakemake.output.record,
                 subject=subject, net=net, **snakemake.params.cfg)
    # QA from the files as written (the cleaned keypoints as the dataset holds them)
    raw = read_openpose_folder(snakemake.input.raw)
    cleaned = read_openpose_folder(snakemake.output.cleaned, n_frames=len(raw))
    trajectory_plot(raw, cleaned, snakemake.output.plot, title=f"{subject}: raw vs cleaned")
    fps = read_json(snakemake.input.frames_record).get("fps") or 25
    overlay_video(snakemake.input.frames, raw, cleaned, snakemake.output.video, fps)
