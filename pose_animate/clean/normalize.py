"""Put a driving video's skeleton into a target subject's body frame.

Global normalization (Everybody Dance Now, Chan et al. 2019, section 3.4): in each video the
floor position of the feet (per frame, the lower ankle's y) ranges from the farthest position
from the camera (`far`, smallest y) to the closest (`close`, largest y), and the body height
differs at the two. A driving frame whose feet are at y = f gets, with a = (f - far_s) /
(close_s - far_s),

    scale(f) = h_far_t / h_far_s + a (h_close_t / h_close_s - h_far_t / h_far_s)
    floor(f) = far_t + a (close_t - far_t)

and every point moves as y' = floor(f) + scale(f) (y - f), x' = cx_t + scale(f) (x - cx_s)
(cx: the median hip x of each video). Statistics are robust: `far`/`close` are the 5th/95th
percentiles of the foot positions, the heights are medians over the frames near each, frames
without ankles or head are skipped. When a video's feet barely move in depth (range under 3 %
of body height) one scale is used and floor(f) = close_t + scale (f - close_s), so jumps stay
jumps.

Upper-body subjects (a speaker seen from the waist up: no feet) are normalized as the
speech-driven Pose2Img seed rescales poses: by the ratio of the two videos' median shoulder
widths about the neck, the driving video's median neck moved onto the target's,
x' = neck_t + s (x - neck_s). `mode: auto` (default) takes the feet where both videos show
them (ankles and head in at least 5 frames) and the shoulders otherwise, saying so; `feet`
and `shoulders` force one. A target of fewer than 5 frames (a source photo: one) gives its
statistics from all of them.

Bone-length retargeting (option): before the global step, each BODY_25 bone of the driving
skeleton is scaled to the target's proportions (bone / body size), keeping every joint angle;
face and hands move with the nose and wrists.
"""

import numpy as np

from ..core.atomic import atomic_dir
from ..core.body import BODY_25_LIMBS, FACE, HAND_LEFT, HAND_RIGHT, J, body_height_px
from ..core.errors import PoseAnimateError
from ..core.formats import read_openpose_folder, write_openpose_folder
from ..core.runlog import log
from .filters import _quiet_nan, sequence_scale

ANKLES = [J["RAnkle"], J["LAnkle"]]
SHOULDERS = [J["RShoulder"], J["LShoulder"]]
HIPS = [J["MidHip"], J["RHip"], J["LHip"]]
DEPTH_RANGE_MIN = 0.03


def foot_positions(seq: np.ndarray, min_conf: float = 0.05) -> np.ndarray:
    """Per frame the lower ankle's y (nan where no ankle is seen)."""
    ankles = seq[:, ANKLES]
    ys = np.where(ankles[..., 2] > min_conf, ankles[..., 1], np.nan)
    with _quiet_nan():
        return np.nanmax(ys, axis=1)


def ankle_statistics(seq: np.ndarray, *, name: str = "", path=None, min_frames: int = 5,
                     percentile: float = 5.0) -> dict:
    """The floor and height statistics of one video (see the module docstring)."""
    feet = foot_positions(seq)
    heights = np.array([body_height_px(p) for p in seq])
    ok = np.isfinite(feet) & np.isfinite(heights) & (heights > 0)
    if ok.sum() < min_frames:
        raise PoseAnimateError(
            f"only {int(ok.sum())} frames show both an ankle and the head; normalization needs "
            f"at least {min_frames}.", subject=name or None, path=path,
            fix="use a video where the whole body, feet included, is visible in most frames.")
    f, h = feet[ok], heights[ok]
    far, close = np.percentile(f, percentile), np.percentile(f, 100 - percentile)
    # Heights near each end: the frames in the lowest / highest fifth of foot positions.
    lo, hi = np.percentile(f, 20), np.percentile(f, 80)
    hips = seq[:, HIPS]
    with _quiet_nan():
        cx = np.nanmedian(np.where(hips[..., 2] > 0.05, hips[..., 0], np.nan))
    if not np.isfinite(cx):
        cx = float(np.median(seq[ok][:, ANKLES, 0]))
    return {"far": float(far), "close": float(close),
            "height_far": float(np.median(h[f <= lo])), "height_close": float(np.median(h[f >= hi])),
            "centre_x": float(cx), "frames_used": int(ok.sum()), "frames": len(seq)}


def shoulder_statistics(seq: np.ndarray, *, name: str = "", path=None, min_frames: int = 5,
                        min_conf: float = 0.05) -> dict:
    """The median shoulder width and neck position of one video, over the frames that show
    both shoulders and the neck."""
    points = seq[:, SHOULDERS + [J["Neck"]]]
    ok = (points[..., 2] > min_conf).all(axis=1)
    if ok.sum() < min_frames:
        raise PoseAnimateError(
            f"only {int(ok.sum())} frames show both shoulders and the neck; normalization "
            f"needs at least {min_frames}.", subject=name or None, path=path,
            fix="use a video where the person's shoulders are visible in most frames.")
    width = np.linalg.norm(points[ok, 0, :2] - points[ok, 1, :2], axis=-1)
    return {"shoulder_width": float(np.median(width)),
            "neck": [float(v) for v in np.median(points[ok, 2, :2], axis=0)],
            "frames_used": int(ok.sum()), "frames": len(seq)}


def normalize_by_shoulders(driving: np.ndarray, source: dict,
                           target: dict) -> tuple[np.ndarray, np.ndarray]:
    """The driving sequence scaled about its median neck by the shoulder-width ratio and put
    on the target's median neck; returns (normalized, scale per frame)."""
    scale = target["shoulder_width"] / source["shoulder_width"]
    out = driving.copy()
    out[..., :2] = np.array(target["neck"]) + scale * (driving[..., :2] - np.array(source["neck"]))
    out[driving[..., 2] <= 0] = 0
    return out, np.full(len(driving), scale)


def _depth_varies(stats: dict) -> bool:
    return stats["close"] - stats["far"] > DEPTH_RANGE_MIN * stats["height_close"]


def normalize_sequence(driving: np.ndarray, source: dict, target: dict) -> tuple[np.ndarray, np.ndarray]:
    """The driving sequence (T, 137, 3) in the target's frame; returns (normalized, scale per
    frame). Missing points stay (0, 0, 0)."""
    feet = foot_positions(driving)
    t = np.arange(len(driving))
    seen = np.isfinite(feet)
    # Frames without ankles take the foot position of the nearest frames that have them.
    feet = np.interp(t, t[seen], feet[seen]) if seen.any() else np.full(len(t), source["close"])
    ratio_far = target["height_far"] / source["height_far"]
    ratio_close = target["height_close"] / source["height_close"]
    if _depth_varies(source) and _depth_varies(target):
        a = (feet - source["far"]) / (source["close"] - source["far"])
        scale = ratio_far + a * (ratio_close - ratio_far)
        floor = target["far"] + a * (target["close"] - target["far"])
    else:
        scale = np.full(len(t), ratio_close)
        floor = target["close"] + scale * (feet - source["close"])
    scale = np.maximum(scale, 1e-3)
    out = driving.copy()
    present = driving[..., 2] > 0
    out[..., 1] = floor[:, None] + scale[:, None] * (driving[..., 1] - feet[:, None])
    out[..., 0] = target["centre_x"] + scale[:, None] * (driving[..., 0] - source["centre_x"])
    out[~present] = 0
    return out, scale


def bone_ratios(driving: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per BODY_25 bone: (target length / target size) / (driving length / driving size)."""
    ratios = np.ones(len(BODY_25_LIMBS))
    sizes = sequence_scale(driving), sequence_scale(target)
    for k, (a, b) in enumerate(BODY_25_LIMBS):
        lengths = []
        for seq, size in zip((driving, target), sizes):
            ok = (seq[:, a, 2] > 0) & (seq[:, b, 2] > 0)
            if ok.sum() == 0:
                break
            # The long end of the length distribution: bones foreshorten, never stretch.
            lengths.append(np.percentile(np.linalg.norm(seq[ok, a, :2] - seq[ok, b, :2], axis=-1), 90) / size)
        if len(lengths) == 2 and lengths[0] > 0:
            ratios[k] = lengths[1] / lengths[0]
    return ratios


def retarget_bones(driving: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The driving skeleton with the target's bone proportions and its own joint angles.

    The tree is walked from the neck in OpenPose's limb order (each parent comes first); a
    joint moves by its parent's displacement plus the change of its own bone.
    """
    ratios = bone_ratios(driving, target)
    out = driving.copy()
    disp = np.zeros(driving.shape[:2] + (2,))
    for k, (a, b) in enumerate(BODY_25_LIMBS):
        both = (driving[:, a, 2] > 0) & (driving[:, b, 2] > 0)
        bone = driving[:, b, :2] - driving[:, a, :2]
        disp[:, b] = disp[:, a] + np.where(both[:, None], (ratios[k] - 1) * bone, 0)
    for part, anchor in ((FACE, J["Nose"]), (HAND_LEFT, J["LWrist"]), (HAND_RIGHT, J["RWrist"])):
        disp[:, part] = disp[:, anchor][:, None]
    out[..., :2] = driving[..., :2] + disp
    out[driving[..., 2] <= 0] = 0
    return out


def normalize_pair(driving: np.ndarray, target: np.ndarray, *, retarget: bool = False,
                   mode: str = "auto", driving_name: str = "", target_name: str = "",
                   driving_path=None, target_path=None) -> tuple[np.ndarray, dict]:
    """Normalize a driving sequence to a target's by the feet or the shoulders (`mode`, see
    the module docstring); returns (normalized, record)."""
    if retarget:
        driving = retarget_bones(driving, target)
    why = None
    if mode in ("auto", "feet"):
        try:
            source = ankle_statistics(driving, name=driving_name, path=driving_path)
            goal = ankle_statistics(target, name=target_name, path=target_path,
                                    min_frames=min(5, len(target)))
        except PoseAnimateError as exc:
            if mode == "feet":
                raise
            why = f"feet not seen ({exc.problem})"
    if mode == "shoulders" or why:
        source = shoulder_statistics(driving, name=driving_name, path=driving_path)
        goal = shoulder_statistics(target, name=target_name, path=target_path,
                                   min_frames=min(5, len(target)))
        out, scale = normalize_by_shoulders(driving, source, goal)
        used, depth = "shoulders", False
        if why:
            log.info("normalize: %s: by the shoulders instead", why)
    else:
        out, scale = normalize_sequence(driving, source, goal)
        used, depth = "feet", bool(_depth_varies(source) and _depth_varies(goal))
    return out, {"mode": used, "why": why, "driving": source, "target": goal,
                 "retarget_bones": retarget, "depth_mapping": depth,
                 "scale_median": float(np.median(scale)), "scale_min": float(scale.min()),
                 "scale_max": float(scale.max())}


def normalize_pose(driving_dir, target_dir, out_dir, settings: dict, *, driving_name: str = "",
                   target_name: str = "") -> dict:
    """The normalize stage: read both cleaned OpenPose folders, write the normalized driving
    folder atomically, return the record. `settings` is the config's `normalize` section.

    The job is about two subjects: their names (recorded, and in the errors of either
    folder) say which of the two a problem is in.
    """
    sequences = []
    for folder, name in ((driving_dir, driving_name), (target_dir, target_name)):
        try:
            sequences.append(read_openpose_folder(folder))
        except PoseAnimateError as exc:
            raise exc.name_job(subject=name or None)
    driving, target = sequences
    out, record = normalize_pair(driving, target, retarget=settings["retarget_bones"],
                                 mode=settings["mode"], driving_name=driving_name,
                                 target_name=target_name, driving_path=driving_dir,
                                 target_path=target_dir)
    with atomic_dir(out_dir) as tmp:
        write_openpose_folder(tmp, out)
    record = {"target_subject": target_name, "driving_subject": driving_name, **record}
    log.info("normalized %s onto %s by the %s: scale %.3f (%.3f..%.3f)", driving_name,
             target_name, record["mode"], record["scale_median"], record["scale_min"],
             record["scale_max"])
    return record
