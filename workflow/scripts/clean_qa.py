from pose_animate.clean_qa import overlay_video, trajectory_plot
from pose_animate.formats import read_json, read_openpose_folder
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    raw = read_openpose_folder(snakemake.input.raw)
    cleaned = read_openpose_folder(snakemake.input.cleaned, n_frames=len(raw))
    subject = snakemake.wildcards.subject
    trajectory_plot(raw, cleaned, snakemake.output.plot, title=f"{subject}: raw vs cleaned")
    fps = read_json(snakemake.input.frames_record).get("fps") or 25
    overlay_video(snakemake.input.frames, raw, cleaned, snakemake.output.video, fps)
