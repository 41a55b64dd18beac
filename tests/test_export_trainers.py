"""Exports for today's animation trainers, read back as their data code reads them:
Wan2.2-Animate's generator (wan/animate.py: src_pose/src_face/src_bg/src_mask/src_ref),
Moore-AnimateAnyone's dance_video.py (meta list, equal frame counts), StableAnimator's
animation_dataset.py (path list, frame_<n>.png sorted by number, 1-channel face masks);
and the one pose drawing they share (OpenPose / DWPose colours)."""

import json
import os

import cv2
import numpy as np
import pytest
from PIL import Image

from export_subject import make_subject, person_at, plan
from pose_animate.core.body import J
from pose_animate.core.config import settings
from pose_animate.core.draw import draw_dwpose
from pose_animate.core.errors import PoseAnimateError
from pose_animate.export.stage import export, export_sheet
from pose_animate.export.wan_animate import area_size, resampled

N = 20


@pytest.fixture(scope="module")
def subjects(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache")
    return {"alice": make_subject(root, "alice", n=N, fps=24.0),
            "wide": make_subject(root, "wide", n=N, h=48, w=80, fps=24.0)}


def run(tmp_path, layout, entry, **layout_settings):
    cfg = settings("export", **({layout: layout_settings} if layout_settings else {}))
    out = tmp_path / "export" / layout / entry["name"]
    return out, export(layout, entry, out, cfg)


def frames_of(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def test_wan_sizes_and_resampling_follow_its_preprocessing():
    assert area_size(1080, 1920, 1280 * 720) == (720, 1280)
    assert area_size(480, 640, 1280 * 720) == (816, 1104)
    assert area_size(720, 720, 1280 * 720) == (960, 960)
    assert resampled(48, 24.0, 30) == [min(round(i / 30 * 24), 47) for i in range(60)]
    assert resampled(5, 24.0, None) == [0, 1, 2, 3, 4]


def test_wan_animate_videos_share_size_and_frame_count(subjects, tmp_path):
    out, record = run(tmp_path, "wan_animate", plan("wide", subjects, ["wide"]),
                      resolution_area=[320, 192])
    names = ["src_pose.mp4", "src_face.mp4", "src_bg.mp4", "src_mask.mp4"]
    videos = {n: frames_of(out / n) for n in names}
    count = int(N / 24 * 30)
    assert {len(v) for v in videos.values()} == {count} == {record["frames"]}
    h, w = videos["src_pose.mp4"][0].shape[:2]
    assert (h % 16, w % 16) == (0, 0) and (w, h) == (320, 192)
    assert videos["src_face.mp4"][0].shape[:2] == (512, 512)
    ref = cv2.imread(str(out / "src_ref.png"))
    assert ref.shape[:2] == (h, w)
    # the mask is 255 where the person is, the background black there
    mask, bg = videos["src_mask.mp4"][0][..., 0], videos["src_bg.mp4"][0]
    scale = 192 / 48
    wrist = person_at(0, N, 48, 80)[J["RWrist"], :2] * scale + [(320 - 80 * scale) / 2, 0]
    x, y = (int(v) for v in wrist)
    assert mask[y, x] > 200 and bg[y, x].max() < 40 and mask[:, :20].max() < 40
    # the pose is drawn where the person is and nowhere near the frame's corners
    pose = videos["src_pose.mp4"][0]
    assert pose[y - 6:y + 7, x - 6:x + 7].max() > 100 and pose[:10, :10].max() < 30


def test_wan_animate_needs_face_points(tmp_path):
    made = make_subject(tmp_path / "cache", "noface", n=4)
    folder = tmp_path / "cache" / "subjects" / "noface" / "openpose_json"
    for f in folder.iterdir():
        data = json.loads(f.read_text())
        data["people"][0]["face_keypoints_2d"] = [0.0] * 210
        f.write_text(json.dumps(data))
    with pytest.raises(PoseAnimateError, match="face_hands"):
        run(tmp_path, "wan_animate", plan("noface", {"noface": made}, ["noface"]))


def test_animate_anyone_meta_pairs_videos_with_pose_videos(subjects, tmp_path):
    out, _ = run(tmp_path, "animate_anyone", plan("both", subjects, ["alice", "wide"]))
    meta = json.loads((out / "meta.json").read_text())
    assert [sorted(m) for m in meta] == [["kps_path", "video_path"]] * 2
    for m in meta:
        video, pose = frames_of(m["video_path"]), frames_of(m["kps_path"])
        assert len(video) == len(pose) == N  # its dataset asserts this
        vh, vw = video[0].shape[:2]
        ph, pw = pose[0].shape[:2]
        assert min(ph, pw) == 512 and ph % 64 == 0 and pw % 64 == 0
        assert abs(vw / vh - pw / ph) < 0.1  # cropped alike, so one aspect
        assert m["kps_path"] == m["video_path"].replace("/videos/", "/videos_dwpose/")


def test_stable_animator_samples_as_its_dataset_reads_them(subjects, tmp_path):
    out, _ = run(tmp_path, "stable_animator", plan("both", subjects, ["alice", "wide"]))
    folders = (out / "video_rec_path.txt").read_text().splitlines()
    assert len(folders) == 2 and all(os.path.isabs(f) for f in folders)
    for folder, (h, w) in zip(folders, ((64, 64), (48, 80))):
        names = os.listdir(os.path.join(folder, "images"))
        names.sort(key=lambda n: int(n.split("_")[1].split(".")[0]))
        assert names == [f"frame_{i}.png" for i in range(N)]
        for name in names[:3]:
            img = Image.open(os.path.join(folder, "images", name))
            assert img.mode == "RGB" and img.size == (512, 512)
            pose = Image.open(os.path.join(folder, "poses", name)).convert("RGB")
            assert pose.size == (512, 512) and np.asarray(pose).max() > 100
            face = Image.open(os.path.join(folder, "faces", name))
            assert face.mode == "L"  # used without convert: must be 1-channel
            t = int(name.split("_")[1].split(".")[0])
            s = 512 / max(h, w)
            nose = person_at(t, N, h, w)[J["Nose"], :2] * s + [(512 - w * s) / 2, (512 - h * s) / 2]
            face = np.asarray(face)
            assert face[int(nose[1]), int(nose[0])] == 255 and face[0, 0] == 0


def test_stable_animator_refuses_short_samples(tmp_path):
    made = make_subject(tmp_path / "cache", "short", n=12)
    with pytest.raises(PoseAnimateError, match="at least 17"):
        run(tmp_path, "stable_animator", plan("short", {"short": made}, ["short"]))


def test_dwpose_drawing_uses_the_openpose_colours():
    person = person_at(0, 1, 256, 256)
    img = draw_dwpose((256, 256), person, face=False, hands=False)
    # joints at full colour in RGB order: nose red, neck (255, 85, 0), right shoulder
    # (255, 170, 0): OpenPose-18 joint i takes colour i
    for name, rgb in (("Nose", (255, 0, 0)), ("Neck", (255, 85, 0)),
                      ("RShoulder", (255, 170, 0))):
        x, y = (int(v) for v in person[J[name], :2])
        assert tuple(img[y, x][::-1]) == rgb
    # a limb's middle at 0.6 of its colour: neck -> right hip is (0, 255, 0) x 0.6
    mid = (person[J["Neck"], :2] + person[J["RHip"], :2]) / 2
    assert tuple(img[int(mid[1]), int(mid[0])][::-1]) == (0, 153, 0)
    # below min_conf nothing is drawn
    faint = person.copy()
    faint[:, 2] = 0.1
    assert draw_dwpose((256, 256), faint).max() == 0


def test_export_sheet_shows_every_image_folder(subjects, tmp_path):
    out, _ = run(tmp_path, "wan_animate", plan("wide", subjects, ["wide"]),
                 resolution_area=[320, 192])
    sheet = export_sheet(out)
    assert sheet.ndim == 3 and sheet.shape[1] >= 4 * 256


def test_animate_anyone_musepose_flavour_draws_its_pose_videos(subjects, tmp_path):
    out, _ = run(tmp_path, "animate_anyone", plan("alice", subjects, ["alice"]),
                 flavour="musepose")
    (entry,) = json.loads((out / "meta.json").read_text())
    assert "/videos_dwpose_without_face/" in entry["kps_path"]
    pose, video = frames_of(entry["kps_path"]), frames_of(entry["video_path"])
    assert len(pose) == len(video) == N and pose[0].shape[:2] == (768, 768)
    # the nose joint: red in the ControlNet colours, stored blue (BGR) by MusePose
    x, y = (int(v * 768 / 64) for v in person_at(0, N, 64, 64)[J["Nose"], :2])
    b, g, r = (int(v) for v in pose[0][y, x])
    assert b > 150 and r < 100, (b, g, r)
