from pose_animate.core.stage import stage_job
from pose_animate.keypoints.gestures import write_gesture_keypoints

with stage_job(snakemake) as job:
    job.save(write_gesture_keypoints(job.input[0], job.output.keypoints))
