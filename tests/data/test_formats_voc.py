import numpy as np
import pytest

from shelfscan import InputError
from shelfscan.data import read_voc
from shelfscan.data.voc import available_splits


def _xml(filename: str, width: int, height: int, objects: list[tuple]) -> str:
    body = "".join(
        f"<object><name>{name}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin>"
        f"<xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>" for name, x1, y1, x2, y2 in objects)
    return (f"<annotation><folder>VOC</folder><filename>{filename}</filename><size><width>{width}</width>"
            f"<height>{height}</height><depth>3</depth></size>{body}</annotation>")


@pytest.fixture
def voc_folder(tmp_path, make_image):
    root = tmp_path / "voc"
    (root / "Annotations").mkdir(parents=True)
    for i in range(3):
        make_image(root / "JPEGImages" / f"{i:06d}.jpg", 120, 80, seed=i)
    (root / "Annotations" / "000000.xml").write_text(_xml("000000.jpg", 120, 80, [
        ("shelf_10", 10, 20, 50, 60), ("shelf_2", 0, 0, 130, 40)]))
    (root / "Annotations" / "000001.xml").write_text(_xml("000001.jpg", 120, 80, [
        ("shelf_2", 5, 5, 25, 35), ("shelf_2", 30, 30, 20, 40), ("", 1, 1, 2, 2)]))
    (root / "Annotations" / "000002.xml").write_text("<annotation><filename>000002.jpg</filename>")
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("000000\n000001\n")
    (root / "ImageSets" / "Main" / "val.txt").write_text("000002\n")
    (root / "ImageSets" / "Main" / "shelf_2_train.txt").write_text("000000 1\n")
    return root


def test_reads_split_with_problems_reported(voc_folder):
    assert available_splits(voc_folder) == ["train", "val"]
    ds = read_voc(voc_folder, "train")
    assert ds.class_names == ["shelf_2", "shelf_10"] and [r.name for r in ds] == ["000000.jpg", "000001.jpg"]
    np.testing.assert_allclose(ds.images[0].boxes.xyxy, [[10, 20, 50, 60], [0, 0, 120, 40]])
    assert ds.images[0].boxes.labels == ["shelf_10", "shelf_2"] and ds.report.clipped_boxes == 1
    xml1 = voc_folder / "Annotations" / "000001.xml"
    assert ds.report.problems == [
        f"{xml1}: object 1: expected xmin <= xmax and ymin <= ymax, got ['30', '30', '20', '40']",
        f"{xml1}: object 2: expected a <name>, got none",
    ]
    assert len(ds.images[1].boxes) == 1


def test_broken_xml_is_a_problem_not_a_crash(voc_folder):
    ds = read_voc(voc_folder, "val")
    assert len(ds) == 0 and len(ds.report.problems) == 1
    assert "000002.xml:1: expected well-formed XML" in ds.report.problems[0]
    with pytest.raises(InputError, match=r"expected one of \['train', 'val'\]"):
        read_voc(voc_folder)


def test_xml_next_to_images_without_splits(tmp_path, make_image):
    make_image(tmp_path / "p.png", 60, 40)
    (tmp_path / "p.xml").write_text(_xml("renamed.png", 60, 40, [("a", 1, 2, 3, 4)]))  # filename is stale
    make_image(tmp_path / "q.jpg", 60, 40)
    (tmp_path / "q.xml").write_text(_xml("q.jpg", 60, 40, [("b", 1, 2, 3, 4)]))
    ds = read_voc(tmp_path, class_names=["a"])
    assert [r.name for r in ds] == ["p.png", "q.jpg"] and ds.class_names == ["a"]
    assert ds.report.problems == [f"{tmp_path / 'q.xml'}: expected a class in ['a'], got 'b'"]
    assert [len(r.boxes) for r in ds] == [1, 0]
