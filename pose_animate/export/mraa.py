"""The articulated-animation seed's frames dataset (snap-research/articulated-animation, read by
its `frames_dataset.py` FramesDataset), from a dataset's train and test subjects:

    train/<video>/0000000.png ...   one folder of PNG frames per video, size x size RGB
    test/<video>/0000000.png ...    (test/ exists even when empty: its loader asserts it)
    pairs.csv                       source, driving: every ordered pair of test videos
    dataset_params.yaml             the config section to paste into a copy of taichi256.yaml

Every entry of train/ and test/ is read as a video, so nothing else is written there. Its test
reading sorts the frame names (zero-padded here); training draws two frames at random. With
`id_sampling` the video folders are named `<id>#<start>#<end>.mp4`, as its loader globs them
(folders of frames too), id = the subject; no id may be a prefix of another (its glob matches
prefixes). `frame_shape` in the snippet is set, not null: with null its test reading of PNG
folders fails (a list indexed by a range). Its networks need a side divisible by 128.
"""

import pandas as pd
import yaml

from ..core.errors import PoseAnimateError
from .source import Fit

SCOPE = "dataset"
PARTS = ("frames",)
# taichi256.yaml's augmentation (training needs one: None is a TypeError in its loader)
AUGMENTATION = {"flip_param": {"horizontal_flip": True, "time_flip": True},
                "jitter_param": {"brightness": 0.1, "contrast": 0.1, "saturation": 0.1,
                                 "hue": 0.1}}


def video_name(subject, id_sampling: bool) -> str:
    return f"{subject.name}#{0:06d}#{len(subject):06d}.mp4" if id_sampling else subject.name


def _check_ids(subjects) -> None:
    names = sorted(s.name for s in subjects)
    for a in names:
        for b in names:
            if a != b and b.startswith(a):
                raise PoseAnimateError(
                    f"subject '{a}' is a prefix of '{b}': with id_sampling MRAA's loader "
                    f"globs '{a}*.mp4' and would mix the two people.",
                    fix="rename one subject in the sheet, or set export.mraa.id_sampling: false.")


def write(job, out, settings, placer) -> dict:
    size, ids = settings["size"], settings["id_sampling"]
    if ids:
        _check_ids(job.train)
    names = {}
    for phase, subjects in (("train", job.train), ("test", job.test)):
        (out / phase).mkdir(parents=True, exist_ok=True)
        for subject in subjects:
            h, w = subject.size
            fit = Fit(h, w, size, size)
            name = video_name(subject, ids and phase == "train")
            names[(phase, subject.name)] = name
            for t, src in enumerate(subject.frames):
                placer.image_or_link(src, out / phase / name / f"{t:07d}.png",
                                     None if fit.identity else lambda: fit.image(subject.image(t)))
    tests = [names[("test", s.name)] for s in job.test]
    pairs = [(a, b) for a in tests for b in tests if a != b] or [(a, a) for a in tests]
    pairs_list = None
    if pairs:
        placer.text(out / "pairs.csv", pd.DataFrame(pairs, columns=["source", "driving"])
                    .to_csv(index=False))
        pairs_list = str(job.final / "pairs.csv")
    snippet = {"dataset_params": {"root_dir": str(job.final), "frame_shape": [size, size, 3],
                                  "id_sampling": bool(ids), "pairs_list": pairs_list,
                                  "augmentation_params": AUGMENTATION}}
    placer.text(out / "dataset_params.yaml",
                "# MRAA: replace dataset_params in a copy of config/taichi256.yaml with this\n"
                + yaml.safe_dump(snippet, sort_keys=False))
    return {"size": size, "id_sampling": bool(ids), "pairs": len(pairs),
            "videos": {"train": [names[("train", s.name)] for s in job.train], "test": tests},
            "frames": sum(len(s) for s in job.train + job.test), "warnings": []}
