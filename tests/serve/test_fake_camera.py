"""The fake-camera helpers of tests/helpers/local_server.py (Pillow and numpy, no OpenCV)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.local_server import camera_frame, rgb_to_i420, write_y4m


def test_i420_of_flat_colours():
    h, w = 4, 6
    for rgb, yuv in (((255, 255, 255), (235, 128, 128)), ((0, 0, 0), (16, 128, 128)), ((255, 0, 0), (82, 90, 240))):
        planes = np.frombuffer(rgb_to_i420(np.full((h, w, 3), rgb, np.uint8)), np.uint8)
        assert len(planes) == h * w * 3 // 2
        y, u, v = planes[:h * w], planes[h * w:h * w * 5 // 4], planes[h * w * 5 // 4:]
        assert (y == yuv[0]).all() and (u == yuv[1]).all() and (v == yuv[2]).all(), rgb


def test_i420_matches_opencv_on_smooth_pictures():
    cv2 = pytest.importorskip("cv2")
    ramp = np.linspace(0, 255, 64 * 48 * 3).reshape(48, 64, 3).astype(np.uint8)
    got = np.frombuffer(rgb_to_i420(ramp), np.uint8).astype(int)
    ref = np.frombuffer(cv2.cvtColor(ramp, cv2.COLOR_RGB2YUV_I420).tobytes(), np.uint8).astype(int)
    assert np.abs(got - ref).max() <= 2  # OpenCV takes a 2x2 block's chroma from its top-left pixel, we average


def test_write_y4m(tmp_path):
    frames = [np.full((4, 6, 3), v, np.uint8) for v in (0, 255)]
    data = write_y4m(tmp_path / "cam.y4m", frames, fps=25).read_bytes()
    header, rest = data.split(b"\n", 1)
    assert header == b"YUV4MPEG2 W6 H4 F25:1 Ip A1:1 C420jpeg"
    assert rest == b"".join(b"FRAME\n" + rgb_to_i420(f) for f in frames)
    with pytest.raises(ValueError, match="even frame sides"):
        write_y4m(tmp_path / "odd.y4m", np.zeros((3, 6, 3), np.uint8))


def test_camera_frame_without_shared_data():
    pytest.importorskip("cv2")  # without a photo the camera renders a synthetic shelf (the [synth] extra)
    frame, source = camera_frame(None)
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8 and "synthetic" in source


def test_camera_frame_from_a_shared_photo(shared):
    root = shared("sku110k-sample").parent
    frame, source = camera_frame(root)
    assert frame.shape == (480, 640, 3) and source.endswith(".jpg")
    assert frame.std() > 20  # a photo, not a flat picture
