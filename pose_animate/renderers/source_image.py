"""A person's photo as the reference image of a family learnt from a dataset (gfla): the
photo cropped and sized as the frames stage makes a subject's frames (`frames` settings:
person crop, size), and its keypoints detected by the keypoint stage's detector, as a
one-frame subject folder (`frames/000000.png`, `openpose_json/000000_keypoints.json`) that
normalization and the render read like a subject's. The photo itself is only read."""

import tempfile
from pathlib import Path

from ..core.atomic import atomic_dir
from ..core.errors import PoseAnimateError
from ..core.formats import frame_name, read_image, write_openpose
from ..core.runlog import log
from ..frames.extract import extract_frames
from ..keypoints.detect import make_backend

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def prepare_source_image(image, frames_dir, keypoints_dir, frames_settings: dict,
                         keypoints_settings: dict) -> dict:
    """Write the photo's frame and keypoints folders (atomically); return the record. A photo
    in which the detector finds nobody is refused."""
    image = Path(image)
    if image.suffix.lower() not in IMAGE_SUFFIXES or read_image(image) is None:
        raise PoseAnimateError("not an image the source can be made of.", path=image,
                               fix=f"give a {', '.join(IMAGE_SUFFIXES)} file of one person.")
    with tempfile.TemporaryDirectory() as tmp:  # a folder of one image: the frames stage's input
        folder = Path(tmp) / "photo"
        folder.mkdir()
        (folder / f"000000{image.suffix.lower()}").symlink_to(image.resolve())
        record = extract_frames(folder, frames_dir, {**frames_settings, "fps": None,
                                                     "max_frames": None})
    frame = read_image(Path(frames_dir) / frame_name(0))
    with make_backend(keypoints_settings) as detector:
        person = detector.detect(frame)
    if person is None:
        raise PoseAnimateError("the keypoint detector finds nobody in the source image.",
                               path=image, fix="give a photo of one person, whole or from the "
                                               "waist up, large enough in the frame.")
    with atomic_dir(keypoints_dir) as out:
        write_openpose(out / "000000_keypoints.json", [person])
    log.info("source image %s: %dx%d frame, %d keypoints found", image, frame.shape[1],
             frame.shape[0], int((person[:, 2] > 0).sum()))
    return {"image": str(image), "frames": record, "keypoints_found": int((person[:, 2] > 0)
                                                                          .sum())}
