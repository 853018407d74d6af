"""shelfscan.data.formats: one reader and one split lister per format, and no reader on detect's import path."""
from __future__ import annotations

import subprocess
import sys

import pytest

from shelfscan.data import coco, sku, voc, yolo
from shelfscan.data.formats import READERS, SPLITS, list_splits, load_dataset
from shelfscan.errors import InputError


def test_every_format_has_a_reader_and_a_split_lister():
    assert list(READERS) == list(SPLITS) == ["sku", "coco", "yolo", "voc"]
    assert READERS == {"sku": sku.read_sku110k, "coco": coco.read_coco, "yolo": yolo.read_yolo, "voc": voc.read_voc}
    assert SPLITS["yolo"] is yolo.available_splits


def test_an_unknown_format_is_refused(tmp_path):
    for call in (load_dataset, list_splits):
        with pytest.raises(InputError, match=r"dataset format: expected one of \['coco', 'sku', 'voc', 'yolo'\], "
                                             r"got 'xml'"):
            call(tmp_path, format="xml")


def test_the_predictions_module_imports_no_reader():
    """``shelfscan detect`` writes predictions through data.predictions -> data.load: neither pulls in the
    readers (nor YAML) any more than data.load did with its lazy string registry."""
    code = ("import sys, shelfscan.data.predictions; "
            "print(sorted(m for m in ('yaml', 'shelfscan.data.formats', 'shelfscan.data.yolo', "
            "'shelfscan.data.coco', 'shelfscan.data.voc', 'shelfscan.data.sku') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
