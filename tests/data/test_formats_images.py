import numpy as np
import pytest
from PIL import Image, ImageFile

from shelfscan import InputError
from shelfscan.data import IMAGE_SUFFIXES, check_image, find_images, image_size, read_image
from shelfscan.data.images import copy_image, inspect_images


def test_suffixes_are_lower_case_and_complete():
    assert set(IMAGE_SUFFIXES) == {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


@pytest.mark.parametrize("name", ["a.jpg", "a.png", "a.bmp", "a.webp", "a.tif", "a.gif"])
def test_good_images_pass(tmp_path, make_image, name):
    assert check_image(make_image(tmp_path / name)) is None


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.9, 0.99])
def test_truncated_jpeg_is_detected(tmp_path, make_image, cut_file, keep):
    path = cut_file(make_image(tmp_path / "a.jpg", 400, 300), keep)
    assert check_image(path) == "truncated JPEG"


def test_truncated_progressive_jpeg_is_detected(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "p.jpg"
    Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(path, progressive=True)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) * 3 // 4])
    assert check_image(path) == "truncated JPEG"


def test_truncated_png_is_detected(tmp_path, make_image, cut_file):
    reason = check_image(cut_file(make_image(tmp_path / "a.png", 200, 100), 0.5))
    assert reason is not None and ("truncated" in reason or "cannot decode" in reason)


def test_not_an_image_empty_and_missing(tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a JPEG\n")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert check_image(text) == "not an image"
    assert check_image(empty) == "empty file"
    assert check_image(tmp_path / "nope.jpg") == "file not found"


def test_check_is_strict_even_when_pillow_is_told_to_load_truncated(tmp_path, make_image, cut_file, monkeypatch):
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    path = cut_file(make_image(tmp_path / "a.jpg", 400, 300), 0.5)
    assert check_image(path) == "truncated JPEG"
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored


def test_inspect_images_threads_match_serial(tmp_path, make_image, cut_file):
    paths = [make_image(tmp_path / f"{i}.jpg", 120, 80, seed=i) for i in range(6)]
    cut_file(paths[2], 0.5)
    serial = inspect_images(paths, workers=1)
    assert inspect_images(paths, workers=3) == serial
    assert [r for r, _ in serial] == [None, None, "truncated JPEG", None, None, None]
    assert serial[0][1] == (120, 80)


def test_read_image_rgb_uint8(tmp_path, make_image):
    path = make_image(tmp_path / "a.png", 50, 30, seed=3)
    pixels = read_image(path)
    assert pixels.shape == (30, 50, 3) and pixels.dtype == np.uint8
    assert np.array_equal(pixels, np.asarray(Image.open(path).convert("RGB")))


def test_read_image_converts_grey_and_rgba(tmp_path):
    Image.new("L", (10, 8), 77).save(tmp_path / "g.png")
    Image.new("RGBA", (10, 8), (1, 2, 3, 4)).save(tmp_path / "a.png")
    grey = read_image(tmp_path / "g.png")
    assert grey.shape == (8, 10, 3) and grey[0, 0].tolist() == [77] * 3
    assert read_image(tmp_path / "a.png")[0, 0].tolist() == [1, 2, 3]


def test_exif_orientation_applied_to_pixels_and_size(tmp_path, make_image):
    path = make_image(tmp_path / "rot.jpg", 90, 60, orientation=6)  # 6: rotate 90 degrees clockwise to view
    assert Image.open(path).size == (90, 60)
    assert image_size(path) == (60, 90)
    assert read_image(path).shape == (90, 60, 3)


def test_read_image_errors_name_path_and_reason(tmp_path, make_image, cut_file):
    bad = tmp_path / "x.jpg"
    bad.write_text("hello")
    with pytest.raises(InputError, match=r"x\.jpg.*not an image"):
        read_image(bad)
    with pytest.raises(InputError, match=r"t\.jpg.*truncated"):
        read_image(cut_file(make_image(tmp_path / "t.jpg", 300, 200), 0.5))
    with pytest.raises(InputError, match="no such file"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(InputError, match="not an image"):
        image_size(bad)


def test_find_images_recursive_sorted_case_insensitive(tmp_path, make_image):
    make_image(tmp_path / "b" / "z.JPG")
    make_image(tmp_path / "a.png")
    make_image(tmp_path / "b" / "c" / "y.Jpeg")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "._a.jpg").write_bytes(b"\x00\x05")  # macOS resource fork
    found = find_images([tmp_path])
    assert found == sorted(found)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.png", "b/c/y.Jpeg", "b/z.JPG"]
    assert find_images([tmp_path / "a.png", tmp_path / "b", tmp_path / "a.png"]) == sorted(
        [tmp_path / "a.png", tmp_path / "b" / "c" / "y.Jpeg", tmp_path / "b" / "z.JPG"])


def test_find_images_rejects_bad_sources(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="expected an image file"):
        find_images([tmp_path / "notes.txt"])
    with pytest.raises(InputError, match="expected an existing"):
        find_images([tmp_path / "nothing"])


def test_copy_image_links_or_copies_bytes(tmp_path, make_image):
    src = make_image(tmp_path / "a.jpg")
    dst = tmp_path / "out" / "sub" / "a.jpg"
    copy_image(src, dst)
    copy_image(src, dst)  # again: already there
    assert dst.read_bytes() == src.read_bytes()
    with pytest.raises(InputError, match="no such file"):
        copy_image(tmp_path / "gone.jpg", tmp_path / "out" / "gone.jpg")


def test_copy_image_refuses_to_overwrite_a_different_image(tmp_path, make_image):
    a = make_image(tmp_path / "a" / "x.jpg", seed=1)
    b = make_image(tmp_path / "b" / "x.jpg", seed=2)
    copy_image(a, tmp_path / "out" / "x.jpg")
    with pytest.raises(InputError, match="got a different file there"):
        copy_image(b, tmp_path / "out" / "x.jpg")
    assert (tmp_path / "out" / "x.jpg").read_bytes() == a.read_bytes()
