"""``Detector``: the Python API of ``shelfscan detect`` — image(s) in, :class:`Detections` out.

The network runs in ONNX Runtime (shipped models and ``.onnx`` files; no torch needed) or PyTorch (checkpoints,
``runtime="torch"``; needs ``pip install 'shelfscan[train]'``); everything after it is the same numpy code
(:mod:`shelfscan.inference.predict`): scaling, tiles and seams, automatic size, NMS or EM-Merger.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from shelfscan.detections import Detections
from shelfscan.errors import expect
from shelfscan.inference.predict import postprocess
from shelfscan.inference.tiling import pad_to_multiple, seam_boxes, tile_grid
from shelfscan.models.shipped import class_noun, shipped_model

AUTO_PROBE = 640          # longest side of the first pass of imgsz="auto"
AUTO_RANGE = (320, 2048)  # sizes it may choose
AUTO_MIN_BOXES = 8
AUTO_CONF = 0.25          # the first pass's own score threshold: the size chosen never depends on `conf`
AUTO_SIDE = 40.0          # product side (first-pass pixels) that imgsz="auto" aims for
RUNTIMES = ("auto", "torch", "onnx")


def _onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def load_runtime(model: Any, *, runtime: str, device: str, threads: int | None):
    """The object that runs the network (``.config``, ``.run(images) -> numpy dict``) for ``model``.

    Shipped names (and None) run their ONNX twin on the CPU unless ``runtime="torch"``; ``.onnx`` paths run in
    ONNX Runtime; checkpoints and modules in PyTorch.
    """
    from shelfscan.errors import InputError
    from shelfscan.inference.onnx_model import OnnxDetectorModel
    from shelfscan.inference.torch_model import TorchDetectorModel, wrap_model

    if model is not None and not isinstance(model, (str, Path)):
        return wrap_model(model, device=device, threads=threads)
    entry = shipped_model(model)
    on_cpu = str(device).startswith("cpu")
    if entry is not None and runtime != "torch":
        onnx_ok, file_ok = _onnx_available(), entry.onnx_path.is_file()
        if on_cpu and onnx_ok and file_ok:
            return OnnxDetectorModel(entry.onnx_path, threads=threads, device=device)
        if runtime == "onnx":
            raise InputError(f"runtime='onnx': expected onnxruntime installed, device cpu and {entry.onnx_path} "
                             f"present, got onnxruntime {'present' if onnx_ok else 'missing'}, device "
                             f"{device}, file {'present' if file_ok else 'missing'}")
    if model is not None and Path(model).suffix.lower() == ".onnx":
        if runtime == "torch":
            raise InputError(f"runtime='torch': expected a .pt checkpoint or a shipped name, got {model}")
        return OnnxDetectorModel(model, threads=threads, device=device)
    return TorchDetectorModel(model, device=device, threads=threads)


class Detector:
    """Dense product detector.

    Args:
        model: shipped model name (``"shelf"``), path to a checkpoint or to an exported ``.onnx`` file, a
            :class:`ShelfDetector`, an ``OnnxDetectorModel``, or None (the default shipped model).
        imgsz: working resolution: the photo is scaled so its longest side is ``imgsz``. ``"auto"``: a first pass
            at ``AUTO_PROBE`` px (score threshold ``AUTO_CONF``, whatever ``conf`` is) measures the median
            product side, and the photo is run at the size that makes it ``auto_side`` px, clamped to
            ``AUTO_RANGE`` (the model's size when the first pass finds fewer than ``AUTO_MIN_BOXES``). Default
            (None): the shipped-model table's choice (``"auto"`` for the shelf model), else the model's own size.
        auto_side: product side in first-pass pixels that ``"auto"`` aims for (default ``AUTO_SIDE``).
        conf: score threshold. iou: NMS IoU threshold. max_det: most boxes per photo (default 1000).
        runtime: ``"auto"`` (shipped models run their ONNX twin on the CPU, checkpoints PyTorch), ``"torch"``,
            ``"onnx"``.
        tile: when set, the scaled photo is cut into overlapping ``tile``-pixel tiles; detections are merged
            across seams without duplicates.
        hard_score_rate: r in score = cls^r · iou^(1−r) (default: the model's).
        merger: ``"nms"`` (default) or ``"em"`` (the SKU-110K EM-Merger on raw candidates).
        device: ``"cpu"`` or a torch/ONNX Runtime GPU device. threads: CPU threads of the runtime.
        tta: also run the mirrored photo and merge both passes' candidates (twice the time).

    Attributes:
        runtime: ``"onnxruntime"`` or ``"pytorch"``. model: the object running the network.
        noun: what its boxes are called (``"products"``, ``"items"``): the shipped-model table's, else
            :func:`~shelfscan.models.shipped.class_noun` of its classes.
        last_imgsz: the working size of the last photo predicted (``"auto"`` picks one per photo).
    """

    def __init__(self, model: Any = None, *, imgsz: int | str | None = None, conf: float = 0.25, iou: float = 0.6,
                 max_det: int = 1000, tile: int | None = None, hard_score_rate: float | None = None,
                 merger: str = "nms", device: str = "cpu", threads: int | None = None, runtime: str = "auto",
                 auto_side: float = AUTO_SIDE, tta: bool = False) -> None:
        expect(0.0 <= conf <= 1.0, "conf", "a number in [0, 1]", conf)
        expect(0.0 < iou <= 1.0, "iou", "a number in (0, 1]", iou)
        expect(isinstance(max_det, int) and max_det > 0, "max_det", "a positive integer", max_det)
        expect(merger in ("nms", "em"), "merger", "'nms' or 'em'", merger)
        expect(runtime in RUNTIMES, "runtime", f"one of {RUNTIMES}", runtime)
        expect(imgsz is None or imgsz == "auto" or (isinstance(imgsz, (int, np.integer)) and imgsz >= 32), "imgsz",
               "an integer ≥ 32, 'auto' or None", imgsz)
        expect(auto_side > 0, "auto_side", "a positive number of pixels", auto_side)
        expect(tile is None or (isinstance(tile, int) and tile >= 32), "tile", "None or an integer ≥ 32", tile)
        self.model = load_runtime(model, runtime=runtime, device=device, threads=threads)
        entry = shipped_model(model) if model is None or isinstance(model, str) else None
        if imgsz is None:
            imgsz = entry.imgsz if entry is not None and entry.imgsz is not None else self.model.config.imgsz
        self.auto = imgsz == "auto"
        self.imgsz = int(self.model.config.imgsz if self.auto else imgsz)
        self.auto_side, self.tta = float(auto_side), bool(tta)
        self.conf, self.iou, self.max_det, self.tile, self.merger = conf, iou, max_det, tile, merger
        cfg_rate = self.model.config.hard_score_rate
        self.hard_score_rate = cfg_rate if hard_score_rate is None else hard_score_rate
        self.last_imgsz = self.imgsz
        self.noun = entry.noun if entry is not None else class_noun(self.class_names)

    def with_imgsz(self, imgsz: int | str | None) -> "Detector":
        """A copy that shares this detector's network and options but runs at ``imgsz`` (an integer ≥ 32 or
        ``"auto"``; None: a plain copy). Its ``last_imgsz`` is its own, so one copy per request tells which
        size that request used."""
        expect(imgsz is None or imgsz == "auto" or (isinstance(imgsz, (int, np.integer)) and not isinstance(
            imgsz, bool) and imgsz >= 32), "imgsz", "an integer ≥ 32, 'auto' or None", imgsz)
        other = copy.copy(self)
        if imgsz is not None:
            other.auto = imgsz == "auto"
            other.imgsz = int(self.model.config.imgsz if other.auto else imgsz)
            other.last_imgsz = other.imgsz
        return other

    @property
    def runtime(self) -> str:
        return self.model.runtime

    @property
    def class_names(self) -> list[str]:
        return list(self.model.config.class_names)

    def _forward(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """(H, W, 3) uint8 (padded inside) -> network outputs of one image, mirrored pass appended with ``tta``."""
        x = np.ascontiguousarray(pad_to_multiple(image).transpose(2, 0, 1)[None], np.float32)
        out = self.model.run(x)
        out = {k: out[k] for k in ("boxes", "cls_scores", "iou_scores")}
        if self.tta:
            flipped = self.model.run(np.ascontiguousarray(x[..., ::-1]))
            fb = flipped["boxes"]
            fb = np.stack([x.shape[-1] - fb[..., 2], fb[..., 1], x.shape[-1] - fb[..., 0], fb[..., 3]], -1)
            out = {k: np.concatenate([out[k], fb if k == "boxes" else flipped[k]], 1) for k in out}
        return out

    def _run(self, image: np.ndarray, conf: float | None = None) -> dict[str, np.ndarray]:
        """One pass on an already scaled image (H, W, 3) -> post-processed boxes (clipped to the image)."""
        h, w = image.shape[:2]
        res = postprocess(self._forward(image), conf=self.conf if conf is None else conf, iou=self.iou,
                          max_det=self.max_det, hard_score_rate=self.hard_score_rate, merger=self.merger,
                          image_size=(w, h))[0]
        b = res["boxes"]
        b[:, 0::2] = b[:, 0::2].clip(0, w)
        b[:, 1::2] = b[:, 1::2].clip(0, h)
        return res

    def predict(self, image: Any) -> Detections | list[Detections]:
        """image: RGB uint8 (H, W, 3), PIL image or path -> :class:`Detections` in the photo's pixels, with
        ``data["iou_score"]`` (predicted IoU of each box) and ``data["imgsz"]`` (the working size used, one value
        per box). A list (or tuple) of images -> a list of Detections, in order."""
        from shelfscan.data.images import as_rgb

        if isinstance(image, (list, tuple)):
            return [self.predict(im) for im in image]
        rgb = as_rgb(image, "Detector.predict image")
        h0, w0 = rgb.shape[:2]
        imgsz = self.choose_imgsz(rgb) if self.auto else self.imgsz
        self.last_imgsz = imgsz
        scaled, scale = _scale_longest(rgb, imgsz)
        h, w = scaled.shape[:2]
        if self.tile is None or (w <= self.tile and h <= self.tile):
            res = self._run(scaled)
        else:
            res = self._run_tiled(scaled)
        boxes = res["boxes"] / scale
        boxes[:, 0::2] = boxes[:, 0::2].clip(0, w0)
        boxes[:, 1::2] = boxes[:, 1::2].clip(0, h0)
        return Detections(boxes, res["scores"], res["labels"], self.class_names,
                          {"iou_score": res["iou_scores"], "imgsz": np.full(len(boxes), imgsz, np.int64)})

    def choose_imgsz(self, rgb: np.ndarray) -> int:
        """The working size ``imgsz="auto"`` picks for this photo (see the class docstring)."""
        b = self._run(_scale_longest(rgb, AUTO_PROBE)[0], conf=AUTO_CONF)["boxes"]
        if len(b) < AUTO_MIN_BOXES:
            return int(self.imgsz)
        side = float(np.median(np.sqrt((b[:, 2] - b[:, 0]).clip(1) * (b[:, 3] - b[:, 1]).clip(1))))
        size = AUTO_PROBE * self.auto_side / side
        return int(np.clip(round(size / 32) * 32, *AUTO_RANGE))

    def _run_tiled(self, image: np.ndarray) -> dict[str, np.ndarray]:
        from shelfscan.postprocess.nms import nms_index

        parts, seam = [], []
        for t in tile_grid(image.shape[1], image.shape[0], self.tile):
            r = self._run(image[t.y0:t.y0 + t.height, t.x0:t.x0 + t.width])
            seam.append(seam_boxes(r["boxes"], t))
            r["boxes"] = r["boxes"] + np.array([t.x0, t.y0, t.x0, t.y0], np.float32)
            parts.append(r)
        res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        seam_mask = np.concatenate(seam)
        # products cut by a seam score lower than the same product seen whole in the neighbouring tile
        scores = res["scores"] * np.where(seam_mask, 0.5, 1.0)
        keep = nms_index(res["boxes"], scores, iou_threshold=self.iou, class_ids=res["labels"])
        res = {k: v[keep] for k, v in res.items()}
        seam_mask = seam_mask[keep]
        # drop cut fragments mostly contained in a whole box of the same class
        drop = _contained_fragments(res["boxes"], res["labels"], seam_mask, 0.7)
        res = {k: v[~drop] for k, v in res.items()}
        order = np.argsort(-res["scores"], kind="stable")[: self.max_det]
        return {k: v[order] for k, v in res.items()}


def _scale_longest(rgb: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """Resize (H, W, 3) so its longest side is ``size`` (area filter when shrinking); returns it and the scale."""
    h0, w0 = rgb.shape[:2]
    scale = size / max(h0, w0)
    w, h = max(1, round(w0 * scale)), max(1, round(h0 * scale))
    if (w, h) == (w0, h0):
        return rgb, scale
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR), scale


def _contained_fragments(boxes: np.ndarray, labels: np.ndarray, seam: np.ndarray, thr: float) -> np.ndarray:
    """bool (N,): seam boxes whose intersection over their own area with some non-seam box exceeds ``thr``."""
    from shelfscan.box_ops import box_ioa

    drop = np.zeros(len(boxes), bool)
    frag, whole = np.nonzero(seam)[0], np.nonzero(~seam)[0]
    if len(frag) == 0 or len(whole) == 0:
        return drop
    same = labels[frag][:, None] == labels[whole][None]
    drop[frag] = (box_ioa(boxes[frag], boxes[whole]) * same).max(1) > thr
    return drop
