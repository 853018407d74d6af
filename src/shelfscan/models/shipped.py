"""The table of shipped models (name -> files and defaults) and model-path resolution. No torch needed."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from shelfscan.errors import InputError
from shelfscan.models.config import GAP_CLASS

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


class _WeightsFiles:
    """The files of a ``checkpoint`` (a file name in ``weights/``): the checkpoint and its ONNX twin."""

    checkpoint: str

    @property
    def checkpoint_path(self) -> Path:
        return WEIGHTS_DIR / self.checkpoint

    @property
    def onnx_path(self) -> Path:
        """The network's ONNX twin (what a CPU run reads)."""
        return WEIGHTS_DIR / Path(self.checkpoint).with_suffix(".onnx")


@dataclass(frozen=True)
class Pass(_WeightsFiles):
    """One pass of a fused shipped model: a network (a checkpoint in ``weights/``, run by its ONNX twin on a
    CPU), the working size it runs at, and whether the photo is mirrored for it."""

    checkpoint: str
    imgsz: int
    mirror: bool = False


@dataclass(frozen=True)
class ShippedModel(_WeightsFiles):
    """One model that ships inside the package.

    Attributes:
        checkpoint: file name of the PyTorch checkpoint in ``weights/`` (its ONNX twin has the same stem).
        imgsz: default working size: ``"auto"`` (chosen per photo from a first pass, for models whose photos
            come at any distance, like shelves), or None for the fixed size the model was trained at (its
            config's ``imgsz``).
        noun: what the model's boxes are called in summaries, legends and pages (``"143 products"``,
            ``"12 items"``).
        int8: whether an int8 twin ships (``<stem>_int8.onnx``, statically quantized for ONNX Runtime by
            ``scripts/quantize_shelf.py``); it is what ``precision="auto"`` runs on a CPU.
        passes: empty for a one-network model; else the passes whose boxes are fused into one answer
            (:func:`shelfscan.postprocess.fusion.fuse_passes`), each a network at a size, mirrored or not
            (``checkpoint`` is then the network that runs where one network must: export, the live page).
        fusion_iou: the IoU above which fusion averages two passes' boxes of one class.
    """

    checkpoint: str
    imgsz: str | None
    noun: str = "products"
    int8: bool = False
    passes: tuple[Pass, ...] = ()
    fusion_iou: float = 0.7

    @property
    def int8_path(self) -> Path:
        return WEIGHTS_DIR / f"{Path(self.checkpoint).stem}_int8.onnx"

    def onnx_file(self, precision: str) -> Path:
        """The ONNX file that runs at ``precision``: ``"fp32"`` the exported twin, ``"int8"`` the quantized one
        (InputError when the model has none), ``"auto"`` the int8 one when it ships, else the fp32 one."""
        if precision == "int8" and not self.int8:
            raise InputError(f"precision 'int8': expected a shipped model with an int8 file "
                             f"({', '.join(n for n, m in SHIPPED_MODELS.items() if m.int8)}), got "
                             f"{self.checkpoint} (use precision 'fp32' or 'auto')")
        if precision == "int8" or (precision == "auto" and self.int8 and self.int8_path.is_file()):
            return self.int8_path
        return self.onnx_path

    def files(self, precision: str = "auto") -> list[Path]:
        """Every weights file a CPU run at ``precision`` reads: the ONNX file, or each pass network's once."""
        if not self.passes:
            return [self.onnx_file(precision)]
        return list(dict.fromkeys(p.onnx_path for p in self.passes))


# The first entry is the default model.
SHIPPED_MODELS: dict[str, ShippedModel] = {
    # one class, "object": every product on a shelf (SKU-110K style); shelf photos come close up or from afar
    "shelf": ShippedModel("shelf.pt", imgsz="auto", noun="products", int8=True),
    # 10 clothing categories tagged on street-fashion photos (people fill the photo: fixed sizes): two networks
    # (EfficientNet-Lite0 ImageNet trunk; MobileNetV2 COCO trunk) at three sizes each, fused (APPAREL_MODEL_CARD.md)
    "apparel": ShippedModel("apparel.pt", imgsz=None, noun="items", fusion_iou=0.7, passes=(
        Pass("apparel.pt", 512), Pass("apparel.pt", 448), Pass("apparel.pt", 640),
        Pass("apparel_coco.pt", 384), Pass("apparel_coco.pt", 448), Pass("apparel_coco.pt", 512))),
}
DEFAULT_MODEL = next(iter(SHIPPED_MODELS))


def shipped_model(model: str | Path | None) -> ShippedModel | None:
    """The table entry of ``model`` (None = the default model), or None when it is not a shipped name."""
    name = DEFAULT_MODEL if model is None else model
    return SHIPPED_MODELS.get(name) if isinstance(name, str) else None


def class_noun(class_names: Sequence[str]) -> str:
    """What the boxes of a model outside the table are called: ``"products"`` with one class besides ``gap``
    (shelf-like: ``object``, or ``object, gap``), ``"items"`` with several (tagging models, e.g. clothing)."""
    kinds = [c for c in class_names if c != GAP_CLASS]  # gaps are empty shelf space, never a kind of box counted
    return "products" if len(kinds) <= 1 else "items"


def model_noun(model: str | Path | None, class_names: Sequence[str]) -> str:
    """The table's ``noun`` for a shipped name (None = the default model), else :func:`class_noun`."""
    entry = shipped_model(model) if model is None or isinstance(model, str) else None
    return entry.noun if entry is not None else class_noun(class_names)


def resolve_model_path(model: str | Path | None) -> Path:
    """``None`` -> the default shipped checkpoint; a shipped name -> its checkpoint; otherwise a path that must
    exist."""
    entry = shipped_model(model)
    if entry is not None:
        path = entry.checkpoint_path
        if not path.is_file():
            raise InputError(f"shipped model {model!r}: expected its weights at {path}, got no such file "
                             "(reinstall shelfscan, or pass --model PATH)")
        return path
    path = Path(model)
    if not path.is_file():
        raise InputError(f"--model: expected one of {sorted(SHIPPED_MODELS)} or a path to a .pt/.onnx file, "
                         f"got {str(model)!r} (no such file)")
    return path
