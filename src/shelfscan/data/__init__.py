"""Datasets and image files: read SKU-110K CSV, COCO, YOLO and VOC; write SKU-110K CSV, COCO and YOLO; the
predictions CSV; checks for truncated and corrupt images. Every reader returns a :class:`Dataset` whose
``report`` counts what was fixed or skipped.

The readers and writers are imported on first use (PEP 562), so ``shelfscan detect`` does not pay for YAML, COCO
and the other formats it never reads."""
from shelfscan.data.images import IMAGE_SUFFIXES, check_image, find_images, image_size, read_image
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.lazy import lazy_attributes

# name -> submodule of shelfscan.data that defines it
_LAZY = {
    "dataset_to_coco": "coco", "read_coco": "coco", "write_coco": "coco",
    "detect_format": "formats", "list_splits": "formats", "load_dataset": "formats",
    "read_predictions_csv": "predictions", "write_predictions_csv": "predictions",
    "read_sku110k": "sku", "write_sku110k": "sku",
    "holdout_split": "split", "repeat_factors": "split",
    "read_voc": "voc",
    "read_yolo": "yolo", "write_yolo": "yolo",
}

__all__ = ["IMAGE_SUFFIXES", "Dataset", "ImageRecord", "LoadReport", "check_image", "find_images", "image_size",
           "read_image", *_LAZY]


__getattr__ = lazy_attributes(__name__, _LAZY)
