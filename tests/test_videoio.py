import av
import numpy as np
import pytest

from pose_animate.core.videoio import write_video


def test_write_video_streams_frames_and_pads_odd_sizes(tmp_path):
    out = tmp_path / "v.mp4"
    n = write_video(out, (np.full((33, 41, 3), 10 * i, np.uint8) for i in range(6)), fps=12)
    assert n == 6
    with av.open(str(out)) as c:
        s = c.streams.video[0]
        assert (s.width, s.height) == (42, 34) and s.frames == 6
        assert float(s.average_rate) == 12


def test_failed_write_leaves_no_file(tmp_path):
    out = tmp_path / "v.mp4"

    def frames():
        yield np.zeros((16, 16, 3), np.uint8)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError):
        write_video(out, frames(), fps=10)
    with pytest.raises(ValueError, match="no frames"):
        write_video(out, iter([]), fps=10)
    assert list(tmp_path.iterdir()) == []
