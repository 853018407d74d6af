"""``Detector``: the Python API of ``shelfscan detect`` — image(s) in, :class:`Detections` out.

The network runs in ONNX Runtime (shipped models and ``.onnx`` files; no torch needed) or PyTorch (checkpoints,
``runtime="torch"``; needs ``pip install 'shelfscan[train]'``); everything after it is the same numpy code
(:mod:`shelfscan.inference.predict`): scaling, tiles and seams, automatic size, NMS or EM-Merger.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from shelfscan.box_ops import clip_boxes, xyxy_to_xywh
from shelfscan.detections import Detections
from shelfscan.errors import InputError, expect
from shelfscan.imageops import resize
from shelfscan.inference.config import InferenceConfig, check_imgsz
from shelfscan.inference.predict import postprocess
from shelfscan.inference.tiling import contained_fragments, pad_to_multiple, seam_boxes, tile_grid
from shelfscan.models.config import GAP_CLASS
from shelfscan.models.shipped import ShippedModel, class_noun, shipped_model
from shelfscan.postprocess.fusion import fuse_passes

SETTINGS = ("conf", "iou", "max_det", "tile", "merger", "tta", "auto_side")  # read-only views of Detector.config
MIN_SIDE = 1.0  # pixels (working scale): thinner boxes, clipped, lie in the padding beyond the photo


def _onnx_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def load_runtime(model: Any, *, runtime: str, device: str, threads: int | None, precision: str = "auto",
                 spin: bool = True):
    """The object that runs the network (``.config``, ``.run(images) -> numpy dict``) for ``model``.

    Shipped names (and None) run their ONNX twin on the CPU unless ``runtime="torch"`` (the int8 one at
    ``precision`` ``"auto"``/``"int8"`` where it ships: :meth:`ShippedModel.onnx_file`); ``.onnx`` paths run in
    ONNX Runtime; checkpoints and modules in PyTorch. ``precision="int8"`` anywhere else is an InputError.
    ``spin=False``: ONNX Runtime's idle threads sleep (for sessions that take turns: a fused model's).
    """
    from shelfscan.errors import InputError
    from shelfscan.inference.onnx_model import OnnxDetectorModel
    from shelfscan.inference.torch_model import TorchDetectorModel, wrap_model

    entry = shipped_model(model)  # None for paths, modules and runtimes
    on_cpu = str(device).startswith("cpu")
    if precision == "int8" and (entry is None or runtime == "torch" or not on_cpu):
        raise InputError(f"precision 'int8': expected a shipped model with an int8 file, runtime auto/onnx and "
                         f"device cpu, got model {model!r}, runtime {runtime!r}, device {device!r} (quantize your "
                         f"own .onnx with scripts/quantize_shelf.py and pass its path)")
    if model is not None and not isinstance(model, (str, Path)):
        return wrap_model(model, device=device, threads=threads)
    if entry is not None and runtime != "torch":
        path = entry.onnx_file(precision)
        onnx_ok, file_ok = _onnx_available(), path.is_file()
        if on_cpu and onnx_ok and file_ok:
            return OnnxDetectorModel(path, threads=threads, device=device, spin=spin)
        if runtime == "onnx" or precision == "int8":
            raise InputError(f"runtime={runtime!r}, precision={precision!r}: expected onnxruntime installed, device "
                             f"cpu and {path} present, got onnxruntime {'present' if onnx_ok else 'missing'}, "
                             f"device {device}, file {'present' if file_ok else 'missing'}")
    if model is not None and Path(model).suffix.lower() == ".onnx":
        if runtime == "torch":
            raise InputError(f"runtime='torch': expected a .pt checkpoint or a shipped name, got {model}")
        return OnnxDetectorModel(model, threads=threads, device=device, spin=spin)
    return TorchDetectorModel(model, device=device, threads=threads)


@dataclass(frozen=True)
class LoadedPass:
    """One pass of a fused model, its network loaded: ``model`` runs at ``imgsz`` (mirrored with ``mirror``)."""

    model: Any
    imgsz: int
    mirror: bool


def load_passes(entry: ShippedModel, first: Any, config: InferenceConfig) -> tuple[LoadedPass, ...]:
    """The passes of a fused shipped model, each network loaded once (``first`` is the entry's checkpoint's).

    A network runs its ONNX twin where ``first`` runs in ONNX Runtime, else its PyTorch checkpoint. InputError
    when the networks' classes differ (fusion pairs boxes by class index)."""
    onnx = first.runtime == "onnxruntime"
    nets = {Path(entry.checkpoint).stem: first}
    passes = []
    for p in entry.passes:
        stem = Path(p.checkpoint).stem
        if stem not in nets:
            path = p.onnx_path if onnx else p.checkpoint_path
            if not path.is_file():
                raise InputError(f"fused model pass {p}: expected its weights at {path}, got no such file "
                                 "(reinstall shelfscan)")
            nets[stem] = load_runtime(str(path), runtime="onnx" if onnx else "torch", device=config.device,
                                      threads=config.threads, spin=False)
        passes.append(LoadedPass(nets[stem], int(p.imgsz), bool(p.mirror)))
    names = {stem: list(net.config.class_names) for stem, net in nets.items()}
    expect(len({tuple(v) for v in names.values()}) == 1, "fused model networks", "the same class names",
           names)
    return tuple(passes)


def _setting(name: str) -> property:
    return property(lambda self: getattr(self.config, name),
                    doc=f"``config.{name}`` (read-only; see :class:`~shelfscan.inference.config.InferenceConfig`)")


def merged_config(config: InferenceConfig | None, options: dict[str, Any]) -> InferenceConfig:
    """``config`` (default ``InferenceConfig()``) with the keyword ``options`` set on it (they win over it);
    InputError for an option :class:`InferenceConfig` does not have or a value it refuses."""
    expect(config is None or isinstance(config, InferenceConfig), "Detector config", "an InferenceConfig or None",
           type(config).__name__)
    unknown = sorted(set(options) - set(InferenceConfig.names()))
    if unknown:
        raise InputError(f"Detector: expected options among {list(InferenceConfig.names())}, got unknown "
                         f"{', '.join(unknown)}")
    return InferenceConfig(**options) if config is None else replace(config, **options)


class Detector:
    """Dense product detector.

    Args:
        model: shipped model name (``"shelf"``), path to a checkpoint or to an exported ``.onnx`` file, a
            :class:`ShelfDetector`, an ``OnnxDetectorModel``, or None (the default shipped model).
        config: an :class:`~shelfscan.inference.config.InferenceConfig` (default: ``InferenceConfig()``, whose
            fields are every default: ``conf`` 0.25, ``iou`` 0.6, ``max_det`` 1000, ``merger`` ``"nms"``, ...).
        **options: any field of ``InferenceConfig`` (``imgsz``, ``conf``, ``iou``, ``max_det``, ``tile``,
            ``merger``, ``hard_score_rate``, ``tta``, ``device``, ``threads``, ``runtime``, ``precision``,
            ``auto_side``, ...),
            set on ``config``; an option wins over the same field of a ``config`` given too. ``imgsz="auto"``: a
            first pass at ``auto_probe`` px (score threshold ``auto_conf``, whatever ``conf`` is) measures the
            median product side, and the photo is run at the size that makes it ``auto_side`` px, clamped to
            ``auto_range`` (the model's size when the first pass finds fewer than ``auto_min_boxes``);
            ``imgsz=None``: the shipped-model table's choice (``"auto"`` for the shelf model), else the model's.
            A fused shipped model (its table entry has ``passes``, e.g. ``"apparel"``) runs every pass (a
            network at a size, mirrored or not) and fuses their boxes (:func:`fuse_passes`); an ``imgsz``
            given runs every pass at that size instead of its own, ``tta`` mirrors every pass.

    Attributes:
        config: the :class:`InferenceConfig` it runs with (frozen). conf, iou, max_det, tile, merger, tta,
            auto_side: its fields, read-only.
        imgsz: the working size (the model's own when ``auto``, which picks one per photo: each result's
            ``metadata["imgsz"]`` says which ran; a fused model's first pass's). auto: whether ``imgsz="auto"``.
        passes: a fused model's :class:`LoadedPass` es (empty otherwise); fusion_iou: its fusion IoU (None).
        hard_score_rate: ``config.hard_score_rate``, else the model's.
        runtime: ``"onnxruntime"`` or ``"pytorch"``. model: the object running the network.
        noun: what its boxes are called (``"products"``, ``"items"``): the shipped-model table's, else
            :func:`~shelfscan.models.shipped.class_noun` of its classes.
    """

    conf, iou, max_det, tile, merger, tta, auto_side = (_setting(name) for name in SETTINGS)

    def __init__(self, model: Any = None, *, config: InferenceConfig | None = None, **options: Any) -> None:
        self.config = config = merged_config(config, options)
        entry = shipped_model(model) if model is None or isinstance(model, str) else None
        fused = entry is not None and bool(entry.passes)
        self.model = load_runtime(model, runtime=config.runtime, device=config.device, threads=config.threads,
                                  precision=config.precision, spin=not fused)
        self.passes = load_passes(entry, self.model, config) if fused else ()
        self.fusion_iou = entry.fusion_iou if fused else None
        imgsz = config.imgsz
        if imgsz is None and fused:
            imgsz = self.passes[0].imgsz
        elif imgsz is None:
            imgsz = entry.imgsz if entry is not None and entry.imgsz is not None else self.model.config.imgsz
        self.auto = imgsz == "auto"
        self.imgsz = int(self.model.config.imgsz if self.auto else imgsz)
        cfg_rate = self.model.config.hard_score_rate
        self.hard_score_rate = cfg_rate if config.hard_score_rate is None else config.hard_score_rate
        self.noun = entry.noun if entry is not None else class_noun(self.class_names)

    def with_imgsz(self, imgsz: int | str | None) -> "Detector":
        """A copy that shares this detector's network and options but runs at ``imgsz`` (an integer ≥ 32 or
        ``"auto"``; None: a plain copy). The size each photo ran at comes back in its result's
        ``metadata["imgsz"]``."""
        check_imgsz(imgsz)
        other = copy.copy(self)
        if imgsz is not None:
            other.config = replace(self.config, imgsz=imgsz)
            other.auto = imgsz == "auto"
            other.imgsz = int(self.model.config.imgsz if other.auto else imgsz)
        return other

    @property
    def runtime(self) -> str:
        return self.model.runtime

    @property
    def class_names(self) -> list[str]:
        return list(self.model.config.class_names)

    def _forward(self, image: np.ndarray, model: Any, mirror: bool) -> dict[str, np.ndarray]:
        """(H, W, 3) uint8 (padded inside) -> network outputs of one image, the mirrored pass appended when
        ``mirror``."""
        x = np.ascontiguousarray(pad_to_multiple(image).transpose(2, 0, 1)[None], np.float32)
        out = model.run(x)
        out = {k: out[k] for k in ("boxes", "cls_scores", "iou_scores")}
        if mirror:
            flipped = model.run(np.ascontiguousarray(x[..., ::-1]))
            fb = flipped["boxes"]
            fb = np.stack([x.shape[-1] - fb[..., 2], fb[..., 1], x.shape[-1] - fb[..., 0], fb[..., 3]], -1)
            out = {k: np.concatenate([out[k], fb if k == "boxes" else flipped[k]], 1) for k in out}
        return out

    def _run(self, image: np.ndarray, conf: float | None = None, model: Any = None,
             mirror: bool | None = None) -> dict[str, np.ndarray]:
        """One pass on an already scaled image (H, W, 3) -> post-processed boxes (clipped to the image), by
        ``model`` (default: this detector's network), mirrored too when ``mirror`` (default: ``tta``).

        Boxes thinner than ``MIN_SIDE`` pixels once clipped are not returned: they lie in the padding the
        network sees beyond the photo's right or bottom edge (clipped to a line on the border, they hold no
        pixel of the photo)."""
        h, w = image.shape[:2]
        outputs = self._forward(image, self.model if model is None else model, self.tta if mirror is None else mirror)
        res = postprocess(outputs, conf=self.conf if conf is None else conf, iou=self.iou,
                          max_det=self.max_det, hard_score_rate=self.hard_score_rate, merger=self.merger,
                          image_size=(w, h), pre_nms_topk=self.config.pre_nms_topk)[0]
        res["boxes"] = boxes = clip_boxes(res["boxes"], w, h)
        inside = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= MIN_SIDE
        return res if inside.all() else {k: v[inside] for k, v in res.items()}

    def predict(self, image: Any) -> Detections | list[Detections]:
        """image: RGB uint8 (H, W, 3), PIL image or path -> :class:`Detections` in the photo's pixels, with
        ``data["iou_score"]`` (predicted IoU of each box) and the working size this photo ran at (``"auto"``
        picks one per photo) in ``metadata["imgsz"]`` (an int, also with no box) and ``data["imgsz"]`` (one value
        per box). A list (or tuple) of images -> a list of Detections, in order."""
        from shelfscan.data.images import as_rgb

        if isinstance(image, (list, tuple)):
            return [self.predict(im) for im in image]
        rgb = as_rgb(image, "Detector.predict image")
        imgsz = int(self.choose_imgsz(rgb) if self.auto else self.imgsz)
        meta: dict[str, Any] = {"imgsz": imgsz}
        h0, w0 = rgb.shape[:2]
        if not self.passes:
            res = self._predict_at(*_scale_longest(rgb, imgsz), (w0, h0), self.model, self.tta)
        else:
            own = self.config.imgsz is None  # each pass at its own size unless one was asked for
            sizes = [p.imgsz if own else imgsz for p in self.passes]
            scaled = {size: _scale_longest(rgb, size) for size in set(sizes)}  # passes at one size share it
            parts = [self._predict_at(*scaled[size], (w0, h0), p.model, p.mirror or self.tta)
                     for size, p in zip(sizes, self.passes)]
            res = fuse_passes(parts, iou=self.fusion_iou, max_det=self.max_det)
            meta["passes"] = len(parts)
        boxes = res["boxes"]
        return Detections(boxes, res["scores"], res["labels"], self.class_names,
                          {"iou_score": res["iou_scores"], "imgsz": np.full(len(boxes), imgsz, np.int64)}, meta)

    def _predict_at(self, scaled: np.ndarray, scale: float, photo_size: tuple[int, int], model: Any,
                    mirror: bool) -> dict[str, np.ndarray]:
        """One pass of ``model`` over the photo already scaled by ``scale`` (tiled when ``tile`` asks) ->
        post-processed boxes in the photo's pixels (``photo_size`` = its (width, height))."""
        h, w = scaled.shape[:2]
        if self.tile is None or (w <= self.tile and h <= self.tile):
            res = self._run(scaled, model=model, mirror=mirror)
        else:
            res = self._run_tiled(scaled, model, mirror)
        res["boxes"] = clip_boxes(res["boxes"] / scale, *photo_size)
        return res

    def choose_imgsz(self, rgb: np.ndarray) -> int:
        """The working size ``imgsz="auto"`` picks for this photo (see the class docstring)."""
        cfg = self.config
        first = self._run(_scale_longest(rgb, cfg.auto_probe)[0], conf=cfg.auto_conf)
        b = first["boxes"]
        if GAP_CLASS in self.class_names:  # empty shelf space is not a product: it does not size the products
            b = b[first["labels"] != self.class_names.index(GAP_CLASS)]
        if len(b) < cfg.auto_min_boxes:
            return int(self.imgsz)
        w, h = xyxy_to_xywh(b)[:, 2:].clip(1).T
        side = float(np.median(np.sqrt(w * h)))
        size = cfg.auto_probe * cfg.auto_side / side
        return int(np.clip(round(size / 32) * 32, *cfg.auto_range))

    def _run_tiled(self, image: np.ndarray, model: Any, mirror: bool) -> dict[str, np.ndarray]:
        from shelfscan.postprocess.nms import nms_index

        parts, seam = [], []
        for t in tile_grid(image.shape[1], image.shape[0], self.tile):
            r = self._run(image[t.y0:t.y0 + t.height, t.x0:t.x0 + t.width], model=model, mirror=mirror)
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
        drop = contained_fragments(res["boxes"], res["labels"], seam_mask, 0.7)
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
    return resize(rgb, (w, h)), scale  # area averaging when it shrinks, bilinear when it grows
