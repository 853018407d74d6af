"""Exporting the detector (ONNX) and running exported models (ONNX Runtime)."""
from shelfscan.export.onnx import INPUT_NAME, OUTPUT_NAMES, export_onnx, weights_to_float16
from shelfscan.inference.onnx_model import OnnxDetectorModel

__all__ = ["INPUT_NAME", "OUTPUT_NAMES", "OnnxDetectorModel", "export_onnx", "weights_to_float16"]
