import cv2
import numpy as np
import pytest

from pose_animate.appearance.flow import (compute_flow, consistency_mask, endpoint_error,
                                          flow_sheet, flow_to_color, make_estimator)
from pose_animate.core.config import settings
from pose_animate.core.errors import PoseAnimateError
from pose_animate.core.formats import read_flo, write_flo, write_image


def textured(size=96, seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (size // 4, size // 4, 3), np.uint8)
    return cv2.GaussianBlur(cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC),
                            (3, 3), 0)


def shifted(img, dx, dy):
    return cv2.warpAffine(img, np.float32([[1, 0, dx], [0, 1, dy]]), img.shape[1::-1],
                          borderMode=cv2.BORDER_REFLECT)


def write_frames(folder, frames):
    folder.mkdir(parents=True, exist_ok=True)
    for t, f in enumerate(frames):
        write_image(folder / f"{t:06d}.png", f)
    return folder


@pytest.mark.parametrize("method", ["dis", "farneback", "deepflow"])
def test_estimators_recover_a_translation(method):
    a = cv2.cvtColor(textured(), cv2.COLOR_BGR2GRAY)
    b = shifted(a, 2.0, -1.0)
    flow = make_estimator(method)(a, b)
    inner = flow[16:-16, 16:-16]
    assert np.allclose(np.median(inner.reshape(-1, 2), 0), [2.0, -1.0], atol=0.15)


def test_endpoint_error_ignores_unknown_ground_truth():
    truth = np.zeros((4, 4, 2), np.float32)
    truth[0, 0] = 1e10
    flow = np.ones((4, 4, 2), np.float32)
    assert endpoint_error(flow, truth) == pytest.approx(np.sqrt(2))


def test_consistency_marks_disagreement_and_exits_as_invalid():
    fwd = np.zeros((20, 20, 2), np.float32)
    fwd[..., 0] = 3
    bwd = -fwd.copy()
    bwd[5:10, 8:13] = 0  # the backward flow disagrees where frame t's pixels 5..9 land
    ok = consistency_mask(fwd, bwd)
    assert ok[:, :5].all() and not ok[5:10, 5:10].any()
    assert not ok[:, 17:].any()  # x + 3 leaves the frame


def test_colour_coding_follows_middlebury():
    flow = np.zeros((1, 3, 2), np.float32)
    flow[0, 0] = (1, 0)
    flow[0, 1] = (-1, 0)
    b, g, r = flow_to_color(flow, 1.0).transpose(2, 0, 1)[:, 0]
    assert (r[0], g[0]) == (255, 0) and b[0] < 50  # rightward motion is red
    assert (r[1], b[1]) == (0, 255)  # leftward is blue-cyan
    assert (b[2], g[2], r[2]) == (255, 255, 255)  # no motion is white


def test_flow_folder_writes_both_directions_and_validity(tmp_path):
    base = textured(64)
    frames = write_frames(tmp_path / "frames", [shifted(base, 1.5 * t, 0) for t in range(4)])
    threads = cv2.getNumThreads()
    rec = compute_flow(frames, tmp_path / "flow", tmp_path / "flow_inv", tmp_path / "valid",
                       settings("flow"))
    assert cv2.getNumThreads() == threads  # OpenCV's threads are off only during the pairs
    assert sorted(p.name for p in (tmp_path / "flow").iterdir()) == \
        ["000000.flo", "000001.flo", "000002.flo"]
    assert {p.suffix for p in (tmp_path / "flow_inv").iterdir()} == {".flo"}
    fwd, bwd = read_flo(tmp_path / "flow" / "000001.flo"), read_flo(tmp_path / "flow_inv" /
                                                                    "000001.flo")
    assert np.median(fwd[..., 0]) == pytest.approx(1.5, abs=0.1)
    assert np.median(bwd[..., 0]) == pytest.approx(-1.5, abs=0.1)
    valid = cv2.imread(str(tmp_path / "valid" / "fwd" / "000000.png"), 0)
    assert set(np.unique(valid)) <= {0, 255} and valid.mean() > 0.8 * 255
    assert rec["pairs"] == 3 and rec["valid_fraction_fwd"] > 0.8
    sheet = flow_sheet(frames, tmp_path / "flow", tmp_path / "valid")
    assert sheet.shape[1] == 3 * 192 + 4 * 4  # three 192 px tiles and contact_sheet's gaps


def test_frames_of_different_sizes_stop_with_a_clear_error(tmp_path):
    frames = write_frames(tmp_path / "frames", [textured(64), textured(64), textured(96)])
    with pytest.raises(PoseAnimateError, match="000002.png.*all frames of a subject"):
        compute_flow(frames, tmp_path / "flow", tmp_path / "flow_inv", tmp_path / "valid",
                     settings("flow"))
    assert not (tmp_path / "flow").exists()  # nothing that looks complete


def test_import_validates_and_copies(tmp_path):
    frames = write_frames(tmp_path / "frames", [textured(32, s) for s in range(3)])
    src = tmp_path / "src"
    for name, value in (("flow", 1.0), ("flow_inv", -1.0)):
        (src / name).mkdir(parents=True)
        for t in range(2):
            write_flo(src / name / f"f{t}.flo", np.full((32, 32, 2), value, np.float32))
    imports = settings("flow", method="import")
    rec = compute_flow(frames, tmp_path / "flow", tmp_path / "flow_inv", tmp_path / "valid",
                       imports, source=src)
    assert rec["backend"] == "import"
    assert np.all(read_flo(tmp_path / "flow_inv" / "000001.flo") == -1.0)
    with pytest.raises(PoseAnimateError, match="no folder to import"):
        compute_flow(frames, tmp_path / "o1", tmp_path / "o2", tmp_path / "o3", imports)
    # A wrong header names the file.
    (src / "flow" / "f1.flo").write_bytes(b"XXXX" + bytes(8))
    with pytest.raises(PoseAnimateError, match="f1.flo.*PIEH"):
        compute_flow(frames, tmp_path / "o1", tmp_path / "o2", tmp_path / "o3", imports,
                     source=src)
    # A wrong count and a wrong size are refused.
    (src / "flow" / "f1.flo").unlink()
    with pytest.raises(PoseAnimateError, match="1 .flo files for 3 frames"):
        compute_flow(frames, tmp_path / "o1", tmp_path / "o2", tmp_path / "o3", imports,
                     source=src)
    write_flo(src / "flow" / "f1.flo", np.zeros((16, 32, 2), np.float32))
    with pytest.raises(PoseAnimateError, match="32x16 but the frames are 32x32"):
        compute_flow(frames, tmp_path / "o1", tmp_path / "o2", tmp_path / "o3", imports,
                     source=src)


def test_rubberwhale_endpoint_error(realdata):
    root = realdata / "optical_flow_gt" / "middlebury_RubberWhale"
    a = cv2.imread(str(root / "RubberWhale_frame10.png"), 0)
    b = cv2.imread(str(root / "RubberWhale_frame11.png"), 0)
    truth = read_flo(root / "RubberWhale_flow10_gt.flo")
    assert endpoint_error(make_estimator("dis", "medium")(a, b), truth) < 0.3
    assert endpoint_error(make_estimator("deepflow")(a, b), truth) < 0.16


def test_synth_clip_exact_flow(synth_clip, tmp_path):
    truth = synth_clip.truth
    rec = compute_flow(truth / "frames", tmp_path / "flow", tmp_path / "flow_inv",
                       tmp_path / "valid", settings("flow"))
    errors = [endpoint_error(read_flo(tmp_path / d / f"{t:06d}.flo"),
                             read_flo(truth / d / f"{t:06d}.flo"))
              for d in ("flow", "flow_inv") for t in range(0, 23, 4)]
    assert rec["pairs"] == 23
    assert np.mean(errors) < 0.5  # measured 0.28 px (DIS medium, 192 px clip)


def test_a_single_frame_gives_empty_flow_folders_and_a_qa_note(tmp_path):
    frames = write_frames(tmp_path / "frames", [textured(32)])
    rec = compute_flow(frames, tmp_path / "flow", tmp_path / "flow_inv", tmp_path / "valid",
                       settings("flow"))
    assert rec["pairs"] == 0 and not list((tmp_path / "flow").iterdir())
    note = flow_sheet(frames, tmp_path / "flow", tmp_path / "valid")
    assert note.dtype == np.uint8 and note.ndim == 3


def test_consistency_matches_the_formula_across_row_bands():
    # A reference straight from the definition, on frames taller than one band of rows.
    rng = np.random.default_rng(3)
    h, w = 150, 70
    fwd = cv2.resize(rng.normal(0, 4, (6, 4, 2)).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)  # smooth: the backward flow can agree
    bwd = -fwd + rng.normal(0, 0.5, (h, w, 2)).astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    ex, ey = xs + fwd[..., 0], ys + fwd[..., 1]
    back = cv2.remap(bwd, ex, ey, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    lhs = ((fwd + back) ** 2).sum(-1)
    rhs = 0.01 * ((fwd ** 2).sum(-1) + (back ** 2).sum(-1)) + 0.5
    inside = (ex >= 0) & (ex <= w - 1) & (ey >= 0) & (ey <= h - 1)
    expected = (lhs <= rhs) & inside
    ok = consistency_mask(fwd, bwd)
    assert 0.2 < expected.mean() < 0.9  # both outcomes occur in every band
    assert (ok != expected).sum() <= 2  # float rounding at the threshold only
