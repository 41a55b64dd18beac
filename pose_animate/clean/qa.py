"""QA of the cleaning and normalization stages, drawn from the folders as written (the
keypoints as the dataset holds them). The plots return BGR pictures; the video is written.

- `trajectory_plot`: x and y over time of a few joints per group (body, face, hands), raw
  detections as dots, cleaned as a line: jitter, filled gaps and repaired jumps show at a glance.
- `overlay_video`: each frame with the raw skeleton (left) and the cleaned one (right).
- `normalization_plot`: the driving feet before and after normalization against the target's
  floor line, and skeletons of both in the target's frame.
"""

import cv2
import numpy as np

from ..core.body import BODY_25_LIMBS, FACE, HAND_LEFT, HAND_RIGHT, J
from ..core.draw import draw_skeleton, evenly_spaced
from ..core.formats import list_frames, read_fps, read_image, read_openpose_folder
from ..core.plots import figure_image, plt
from ..core.videoio import VideoWriter
from .normalize import foot_positions


# (label, point index) shown per group: joints that move most and are seen most.
TRACKS = {
    "body": [("RWrist", J["RWrist"]), ("LWrist", J["LWrist"]), ("RAnkle", J["RAnkle"]),
             ("Nose", J["Nose"])],
    "face": [("chin", FACE.start + 8), ("nose tip", FACE.start + 30)],
    "hands": [("left index tip", HAND_LEFT.start + 8), ("right index tip", HAND_RIGHT.start + 8)],
}


def raw_and_cleaned(raw_dir, cleaned_dir) -> tuple[np.ndarray, np.ndarray]:
    """Both keypoint folders as (T, 137, 3), checked to hold the same frames."""
    raw = read_openpose_folder(raw_dir)
    return raw, read_openpose_folder(cleaned_dir, n_frames=len(raw))


def trajectory_plot(raw_dir, cleaned_dir, title: str = "") -> np.ndarray:
    """Rows: body, face, hands; columns: x and y (pixels) over frames."""
    raw, cleaned = raw_and_cleaned(raw_dir, cleaned_dir)
    fig, axes = plt.subplots(len(TRACKS), 2, figsize=(12, 3 * len(TRACKS)), sharex=True,
                             squeeze=False)
    t = np.arange(len(raw))
    for row, (group, tracks) in enumerate(TRACKS.items()):
        for col, (coord, name) in enumerate(((0, "x"), (1, "y"))):
            ax = axes[row, col]
            for k, (label, p) in enumerate(tracks):
                color = f"C{k}"
                seen = raw[:, p, 2] > 0
                ax.plot(t[seen], raw[seen, p, coord], ".", ms=3, color=color, alpha=0.5)
                kept = np.where(cleaned[:, p, 2] > 0, cleaned[:, p, coord], np.nan)
                ax.plot(t, kept, "-", lw=1.2, color=color, label=label)
            ax.set_ylabel(f"{group} {name} (px)")
            if row == 0 and col == 0:
                ax.set_title("dots: raw detections, lines: cleaned", fontsize=9, loc="left")
            ax.legend(fontsize=7, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel("frame")
    fig.suptitle(title)
    fig.tight_layout()
    return figure_image(fig)


def overlay_video(frames_dir, frames_record, raw_dir, cleaned_dir, path) -> int:
    """Raw (left) and cleaned (right) skeletons over the frames, streamed to an mp4 at the
    frame rate of the frames record (frames.json); returns the frames written."""
    raw, cleaned = raw_and_cleaned(raw_dir, cleaned_dir)
    frames = list_frames(frames_dir)
    with VideoWriter(path, read_fps(frames_record)) as writer:
        for t, f in enumerate(frames[:len(raw)]):
            img = read_image(f)
            left = draw_skeleton(img.copy(), raw[t])
            right = draw_skeleton(img.copy(), cleaned[t])
            for pane, text in ((left, "raw"), (right, "cleaned")):
                cv2.putText(pane, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255),
                            1, cv2.LINE_AA)
            writer.write(np.hstack([left, right]))
        return writer.frames_written


def normalization_plot(driving_dir, target_dir, normalized_dir, record: dict) -> np.ndarray:
    """Left: foot height over frames (driving raw, normalized, the target's and its floor line);
    right: target and normalized driving skeletons at a few frames, in the target's frame.
    `record` is the normalize stage's (its floor line and the subjects' names)."""
    driving, target = read_openpose_folder(driving_dir), read_openpose_folder(target_dir)
    normalized = read_openpose_folder(normalized_dir, n_frames=len(driving))
    fig, (ax, sk) = plt.subplots(1, 2, figsize=(12, 4.5))
    feet = record.get("mode", "feet") == "feet"
    track = foot_positions if feet else (lambda seq: np.where(seq[:, J["Neck"], 2] > 0,
                                                             seq[:, J["Neck"], 1], np.nan))
    line = record["target"]["close"] if feet else record["target"]["neck"][1]
    ax.plot(track(driving), lw=1, color="0.6", label="driving, raw")
    ax.plot(track(normalized), lw=1.5, color="C1", label="driving, normalized")
    ax.plot(track(target), lw=1, color="C0", alpha=0.7, label="target")
    ax.axhline(line, color="C0", ls="--", lw=1,
               label="target floor (close)" if feet else "target median neck")
    ax.invert_yaxis()
    ax.set_xlabel("frame")
    ax.set_ylabel("lower ankle y (px, down)" if feet else "neck y (px, down)")
    ax.legend(fontsize=8)
    for seq, color, picks in ((target, "C0", 3), (normalized, "C1", 4)):
        for t in evenly_spaced(len(seq), picks):
            p = seq[t]
            for a, b in BODY_25_LIMBS:
                if p[a, 2] > 0 and p[b, 2] > 0:
                    sk.plot([p[a, 0], p[b, 0]], [p[a, 1], p[b, 1]], color=color, lw=1.2,
                            alpha=0.8)
    sk.axhline(line, color="C0", ls="--", lw=1)
    sk.set_aspect("equal")
    sk.invert_yaxis()
    sk.set_title("blue: target, orange: normalized driving", fontsize=9)
    names = record["driving_subject"], record["target_subject"]
    fig.suptitle("{} normalized onto {}".format(*names) if all(names) else "")
    fig.tight_layout()
    return figure_image(fig)
