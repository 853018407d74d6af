"""Property-based fuzzing of every annotation reader: arbitrary rows and arbitrary bytes give a Dataset (bad lines
in its report) or one of shelfscan's own errors, never another exception (no TypeError, UnicodeDecodeError,
OverflowError, RecursionError, ...)."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from shelfscan.data import read_coco, read_predictions_csv, read_sku110k, read_voc, read_yolo  # noqa: E402
from shelfscan.errors import ShelfscanError  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _helpers(kit):
    global encode, photo, write
    encode, photo, write = kit.encode, kit.photo, kit.write

# fixed examples in CI (derandomized, no example database written);
# SHELFSCAN_FUZZ_EXAMPLES=5000 fuzzes deeper, at random
DEEP = os.environ.get("SHELFSCAN_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(DEEP or 120), deadline=None, database=None, derandomize=DEEP is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# field values that have broken readers: non-finite and huge numbers, traversal, control characters, quoting
NASTY = st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "-1e400", "1" + "0" * 400, "1e308", "-0", "0x10",
                         "1_000", "٣", "../../../victim.jpg", "/etc/passwd", "C:\\x.jpg", "a\0b.jpg", '"', '""',
                         '"a,b"', "\ufeff", "é", "\u2028", "object", "img_0.jpg", "96", "64", "3.5", "-5", "0",
                         "1" * 30])
FIELD = st.one_of(NASTY, st.text(max_size=12), st.integers(-10**6, 10**6).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr))
BYTES = st.binary(max_size=600)


def assert_only_own_errors(read, *args, **kwargs):
    """Call a reader; it may raise ShelfscanError, nothing else; a dataset's report lines are strings."""
    try:
        ds = read(*args, **kwargs)
    except ShelfscanError as exc:
        assert str(exc)
        return None
    if hasattr(ds, "report"):
        assert all(isinstance(p, str) for p in ds.report.problems)
        for rec in ds.images:
            assert rec.width >= 0 and rec.height >= 0
            assert Path(rec.path).resolve().is_relative_to(Path(ds.root).resolve()) or not Path(rec.path).exists()
    return ds


def csv_line(fields: list[str], quote: bool) -> str:
    if quote:
        return ",".join('"' + f.replace('"', '""') + '"' for f in fields)
    return ",".join(fields)


def sku_dir(tmp: Path, content: bytes) -> Path:
    root = tmp / "sku"
    write(root / "images" / "img_0.jpg", encode(photo(96, 64)))
    write(root / "annotations" / "annotations_train.csv", content)
    return root


@FUZZ
@given(rows=st.lists(st.tuples(st.lists(FIELD, min_size=0, max_size=10), st.booleans()), max_size=8),
       bom=st.booleans(), crlf=st.booleans())
def test_sku_csv_rows(rows, bom, crlf):
    text = ("\r\n" if crlf else "\n").join(csv_line(f, q) for f, q in rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8", "surrogatepass")
    with tempfile.TemporaryDirectory() as tmp:
        root = sku_dir(Path(tmp), data)
        assert_only_own_errors(read_sku110k, root, check_images=False)
        assert_only_own_errors(read_sku110k, root, check_images=True)


@FUZZ
@given(data=BYTES)
def test_sku_csv_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        good = b"img_0.jpg,1,2,30,40,object,96,64\n"
        assert_only_own_errors(read_sku110k, sku_dir(Path(tmp), good + data + b"\n" + good))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | NASTY,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                 max_size=4), max_leaves=12)
ID = st.one_of(st.integers(-3, 3), st.sampled_from(["1", "a", 1.0, True, None, [1], {"id": 1}, 10**400]), JSON)


@FUZZ
@given(images=st.lists(st.fixed_dictionaries({"id": ID, "file_name": st.one_of(NASTY, JSON)},
                                             optional={"width": JSON | ID, "height": JSON | ID}), max_size=4),
       anns=st.lists(st.fixed_dictionaries({"image_id": ID, "category_id": ID},
                                           optional={"bbox": st.lists(st.one_of(ID, FIELD, JSON), max_size=5),
                                                     "iscrowd": JSON}), max_size=5),
       cats=st.lists(st.fixed_dictionaries({"id": ID, "name": st.one_of(NASTY, JSON)}), max_size=4),
       big=st.booleans())
def test_coco_documents(images, anns, cats, big):
    text = json.dumps({"images": images, "annotations": anns, "categories": cats})
    if big:  # numbers JSON allows and Python overflows on
        text = text.replace("0", "1e400", 1).replace("3", "1" + "0" * 5000, 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write(root / "images" / "img_0.jpg", encode(photo(96, 64)))
        path = write(root / "annotations" / "instances_train.json", text)
        assert_only_own_errors(read_coco, path, check_images=False)
        assert_only_own_errors(read_coco, path)


@FUZZ
@given(data=BYTES | JSON.map(lambda v: json.dumps(v).encode()) | st.integers(1, 5000).map(lambda n: b"[" * n))
def test_coco_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        assert_only_own_errors(read_coco, write(Path(tmp) / "instances_x.json", data))


def yolo_dir(tmp: Path, label: bytes, yaml_text: bytes | None) -> Path:
    root = tmp / "yolo"
    write(root / "images" / "a.jpg", encode(photo(96, 64)))
    write(root / "images" / "b.png", encode(photo(40, 30, 1), "PNG"))
    write(root / "labels" / "a.txt", label)
    write(root / "labels" / "orphan.txt", b"0 0.5 0.5 0.1 0.1\n")
    if yaml_text is not None:
        write(root / "data.yaml", yaml_text)
    return root


YAML = st.one_of(st.none(), BYTES, st.sampled_from([
    b"names: [a, b]\n", b"names: {0: a, 1: b}\n", b"names: {0: a, '1': b}\n", b"names: {1: a}\n",
    b"names: 2024-13-45\n", b"names: [2024-13-45]\n", b"names: [[a], {b: c}]\n", b"names: [null, true]\n",
    b"a: &x [1]\nb: &y [*x, *x, *x]\nnames: [*y, *y]\n", b"\xff\xfenames: [a]\n", b"names: \xe9\n", b"[" * 3000]))


@FUZZ
@given(lines=st.lists(st.lists(FIELD, max_size=9).map(" ".join), max_size=6), raw=BYTES, yaml_text=YAML,
       bom=st.booleans())
def test_yolo_labels(lines, raw, yaml_text, bom):
    label = (b"\xef\xbb\xbf" if bom else b"") + "\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + raw
    with tempfile.TemporaryDirectory() as tmp:
        root = yolo_dir(Path(tmp), label, yaml_text)
        assert_only_own_errors(read_yolo, root)
        assert_only_own_errors(read_yolo, root, check_images=False)


def voc_xml(filename: str, size: tuple[str, str], objects: list[tuple[str, list[str]]]) -> str:
    from xml.sax.saxutils import escape

    def e(text: str) -> str:  # XML 1.0 cannot carry most control characters at all: keep the rest
        return escape("".join(c for c in text if c in "\t\n\r" or ord(c) >= 32))

    objs = "".join(f"<object><name>{e(n)}</name><bndbox>" + "".join(
        f"<{t}>{e(v)}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), b)) + "</bndbox></object>"
        for n, b in objects)
    return (f"<annotation><filename>{e(filename)}</filename><size><width>{e(size[0])}</width>"
            f"<height>{e(size[1])}</height></size>{objs}</annotation>")


@FUZZ
@given(filename=st.one_of(NASTY, st.text(max_size=10)), size=st.tuples(FIELD, FIELD),
       objects=st.lists(st.tuples(FIELD, st.lists(FIELD, min_size=0, max_size=4)), max_size=4),
       raw=st.one_of(st.none(), BYTES), split_list=st.one_of(st.none(), BYTES, NASTY.map(str.encode)))
def test_voc_files(filename, size, objects, raw, split_list):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "voc"
        write(root / "JPEGImages" / "a.jpg", encode(photo(96, 64)))
        write(root / "Annotations" / "a.xml", voc_xml(filename, size, objects))
        if raw is not None:
            write(root / "Annotations" / "b.xml", raw)
        if split_list is not None:
            write(root / "ImageSets" / "Main" / "train.txt", b"a\n" + split_list + b"\nb\n")
        assert_only_own_errors(read_voc, root)
        assert_only_own_errors(read_voc, root, check_images=False)


HEADERS = st.sampled_from(["image_name,x1,y1,x2,y2,score,class", "image_name,x1,y1,x2,y2,score", "",
                           "\ufeffimage_name,x1,y1,x2,y2,score", "image_name,x1", '"image_name,x1,y1'])


@FUZZ
@given(header=HEADERS, rows=st.lists(st.tuples(st.lists(FIELD, max_size=8), st.booleans()), max_size=6), raw=BYTES,
       names=st.one_of(st.none(), st.lists(st.text(max_size=4), max_size=3)))
def test_predictions_csv(header, rows, raw, names):
    text = header + "\n" + "\n".join(csv_line(f, q) for f, q in rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp) / "p.csv", text.encode("utf-8", "surrogatepass") + b"\n" + raw)
        out = assert_only_own_errors(read_predictions_csv, path, class_names=names)
        if out is not None:
            assert all(isinstance(k, str) for k in out)
