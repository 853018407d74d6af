"""Datasets and image files: read SKU-110K CSV, COCO, YOLO and VOC; write SKU-110K CSV, COCO and YOLO; the
predictions CSV; checks for truncated and corrupt images. Every reader returns a :class:`Dataset` whose
``report`` counts what was fixed or skipped."""
from shelfscan.data.coco import dataset_to_coco, read_coco, write_coco
from shelfscan.data.images import IMAGE_SUFFIXES, check_image, find_images, image_size, read_image
from shelfscan.data.load import detect_format, list_splits, load_dataset
from shelfscan.data.predictions import read_predictions_csv, write_predictions_csv
from shelfscan.data.records import Dataset, ImageRecord, LoadReport
from shelfscan.data.sku import read_sku110k, write_sku110k
from shelfscan.data.split import holdout_split, repeat_factors
from shelfscan.data.voc import read_voc
from shelfscan.data.yolo import read_yolo, write_yolo

__all__ = [
    "IMAGE_SUFFIXES", "Dataset", "ImageRecord", "LoadReport", "check_image", "dataset_to_coco", "detect_format",
    "find_images", "holdout_split", "image_size", "list_splits", "load_dataset", "read_coco", "read_image", "read_predictions_csv",
    "read_sku110k", "read_voc", "read_yolo", "repeat_factors", "write_coco", "write_predictions_csv", "write_sku110k", "write_yolo",
]
