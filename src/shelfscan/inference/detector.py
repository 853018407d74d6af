"""``Detector``: the Python API of ``shelfscan detect`` — image in, :class:`Detections` out."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torchvision.ops import batched_nms

from shelfscan.detections import Detections
from shelfscan.errors import expect
from shelfscan.inference.tiling import pad_to_multiple, seam_boxes, tile_grid
from shelfscan.models.checkpoint import load_detector
from shelfscan.models.detector import ShelfDetector
from shelfscan.models.predict import postprocess


AUTO_PROBE = 640          # longest side of the first pass of imgsz="auto"
AUTO_RANGE = (320, 2048)  # sizes it may choose
AUTO_MIN_BOXES = 8


def shipped_onnx(model: str | None, device: str, required: bool = False) -> Path | None:
    """The ONNX twin of a shipped model (``weights/<name>.onnx``) when it can run here, else None."""
    from shelfscan.models.checkpoint import DEFAULT_MODEL, SHIPPED_MODELS, WEIGHTS_DIR

    name = DEFAULT_MODEL if model is None else model
    if name not in SHIPPED_MODELS:
        return None
    path = WEIGHTS_DIR / Path(SHIPPED_MODELS[name]).with_suffix(".onnx")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        onnx_ok = False
    else:
        onnx_ok = True
    usable = path.is_file() and onnx_ok and str(device).startswith("cpu")
    expect(usable or not required, "runtime='onnx'", f"onnxruntime installed, device cpu and {path} present",
           f"onnxruntime {'present' if onnx_ok else 'missing'}, device {device}, file "
           f"{'present' if path.is_file() else 'missing'}")
    return path if usable else None


def _to_rgb_array(image: Any) -> np.ndarray:
    if isinstance(image, (str, Path)):
        from shelfscan.data.images import read_image

        return read_image(image)
    if hasattr(image, "convert"):  # PIL
        return np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    expect(arr.ndim == 3 and arr.shape[2] == 3 and arr.dtype == np.uint8, "Detector.predict image",
           "an RGB uint8 array (H, W, 3), a PIL image or a path", f"{arr.dtype} array of shape {arr.shape}")
    return arr


class Detector:
    """Dense product detector.

    Args:
        model: shipped model name (``"shelf"``), path to a checkpoint or to an exported ``.onnx`` file (run with
            ONNX Runtime), a :class:`ShelfDetector` (or an ``OnnxDetectorModel``), or None (default).
        imgsz: working resolution: the photo is scaled so its longest side is ``imgsz`` (default: the model's).
            ``"auto"``: a first pass at ``AUTO_PROBE`` px measures the median product side, and the photo is run
            at the size that makes it ``auto_side`` px (the product size the model was trained on), clamped to
            ``AUTO_RANGE``; close-ups then shrink and far shots grow. Falls back to the model's size when the
            first pass finds fewer than ``AUTO_MIN_BOXES`` products.
        auto_side: product side in pixels, as the first pass measures it, that ``imgsz="auto"`` aims for
            (default 40: tuned on the shelf model, between grocery-shelves close-ups and SKU-110K photos).
        conf: score threshold. iou: NMS IoU threshold. max_det: most boxes per photo (default 1000).
        runtime: for shipped models on the CPU, ``"auto"`` runs the shipped ONNX file with ONNX Runtime when
            onnxruntime is installed (several times faster than eager PyTorch on a CPU), else PyTorch;
            ``"torch"`` forces PyTorch, ``"onnx"`` requires ONNX Runtime.
        tile: when set, the scaled photo is cut into overlapping ``tile``-pixel tiles (for photos whose products
            are too small at one pass); detections are merged across seams without duplicates.
        hard_score_rate: r in score = cls^r · iou^(1−r) (default: the model's).
        merger: ``"nms"`` (default) or ``"em"`` (the SKU-110K EM-Merger on raw candidates).
        device: torch device.
        threads: torch intra-op threads (None leaves torch's setting).
        tta: also run the mirrored photo and merge both passes' candidates (twice the time; a little more
            accurate, mostly on sparse scenes such as apparel photos).
    """

    def __init__(self, model: str | Path | ShelfDetector | None = None, *, imgsz: int | str | None = None,
                 conf: float = 0.25, iou: float = 0.6, max_det: int = 1000, tile: int | None = None,
                 hard_score_rate: float | None = None, merger: str = "nms", device: str = "cpu",
                 threads: int | None = None, runtime: str = "auto", auto_side: float = 40.0,
                 tta: bool = False) -> None:
        expect(0.0 <= conf <= 1.0, "conf", "a number in [0, 1]", conf)
        expect(0.0 < iou <= 1.0, "iou", "a number in (0, 1]", iou)
        expect(isinstance(max_det, int) and max_det > 0, "max_det", "a positive integer", max_det)
        expect(merger in ("nms", "em"), "merger", "'nms' or 'em'", merger)
        expect(runtime in ("auto", "torch", "onnx"), "runtime", "'auto', 'torch' or 'onnx'", runtime)
        if threads is not None:
            torch.set_num_threads(threads)
        if runtime != "torch" and (model is None or isinstance(model, str)):
            model = shipped_onnx(model, device, required=runtime == "onnx") or model
        if isinstance(model, (str, Path)) and Path(model).suffix.lower() == ".onnx":  # ONNX Runtime, not torch
            from shelfscan.export.runtime import OnnxDetectorModel

            model = OnnxDetectorModel(model, threads=threads, device=device)
        self.model = load_detector(model, device) if model is None or isinstance(model, (str, Path)) else model
        self.model.eval()
        cfg = self.model.config
        self.auto = imgsz == "auto"
        self.imgsz = cfg.imgsz if self.auto or imgsz is None else imgsz
        expect(isinstance(self.imgsz, (int, np.integer)) and self.imgsz >= 32, "imgsz", "an integer ≥ 32 or 'auto'",
               imgsz)
        expect(auto_side > 0, "auto_side", "a positive number of pixels", auto_side)
        self.auto_side = float(auto_side)
        self.tta = bool(tta)
        self.last_imgsz = self.imgsz
        self.conf, self.iou, self.max_det, self.tile, self.merger = conf, iou, max_det, tile, merger
        self.hard_score_rate = cfg.hard_score_rate if hard_score_rate is None else hard_score_rate
        self.device = torch.device(device)

    @property
    def class_names(self) -> list[str]:
        return list(self.model.config.class_names)

    @torch.inference_mode()
    def _run(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """One forward pass on an already scaled image (H, W, 3) -> numpy dict of post-processed boxes."""
        h, w = image.shape[:2]
        x = torch.from_numpy(np.ascontiguousarray(pad_to_multiple(image))).to(self.device)
        x = x.permute(2, 0, 1).unsqueeze(0)
        out = self.model(x)
        if self.tta:  # mirrored pass: boxes flipped back, candidates of both passes merged by the NMS below
            flipped = self.model(x.flip(-1))
            fb = flipped["boxes"]
            fb = torch.stack([x.shape[-1] - fb[..., 2], fb[..., 1], x.shape[-1] - fb[..., 0], fb[..., 3]], -1)
            out = {k: torch.cat([out[k], fb if k == "boxes" else flipped[k]], 1)
                   for k in ("boxes", "cls_logits", "iou_logits")}
        if self.merger == "em":
            from shelfscan.inference.merge import em_postprocess

            res = em_postprocess(out, conf=self.conf, max_det=self.max_det, hard_score_rate=self.hard_score_rate,
                                 image_size=(w, h))
        else:
            res = postprocess(out, conf=self.conf, iou=self.iou, max_det=self.max_det,
                              hard_score_rate=self.hard_score_rate)[0]
        res = {k: v.float().cpu().numpy() if v.is_floating_point() else v.cpu().numpy() for k, v in res.items()}
        b = res["boxes"]
        b[:, 0::2] = b[:, 0::2].clip(0, w)
        b[:, 1::2] = b[:, 1::2].clip(0, h)
        return res

    def predict(self, image: Any) -> Detections:
        """image: RGB uint8 (H, W, 3), PIL image or path -> :class:`Detections` in the photo's pixels, with
        ``data["iou_score"]`` (predicted IoU of each box)."""
        rgb = _to_rgb_array(image)
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
        return Detections(boxes, res["scores"], res["labels"], self.class_names, {"iou_score": res["iou_scores"]})

    def choose_imgsz(self, rgb: np.ndarray) -> int:
        """The working size ``imgsz="auto"`` picks for this photo (see the class docstring)."""
        b = self._run(_scale_longest(rgb, AUTO_PROBE)[0])["boxes"]
        if len(b) < AUTO_MIN_BOXES:
            return int(self.imgsz)
        side = float(np.median(np.sqrt((b[:, 2] - b[:, 0]).clip(1) * (b[:, 3] - b[:, 1]).clip(1))))
        size = AUTO_PROBE * self.auto_side / side
        return int(np.clip(round(size / 32) * 32, *AUTO_RANGE))

    def _run_tiled(self, image: np.ndarray) -> dict[str, np.ndarray]:
        h, w = image.shape[:2]
        parts, seam = [], []
        for t in tile_grid(w, h, self.tile):
            r = self._run(image[t.y0:t.y0 + t.height, t.x0:t.x0 + t.width])
            seam.append(seam_boxes(r["boxes"], t))
            r["boxes"] = r["boxes"] + np.array([t.x0, t.y0, t.x0, t.y0], np.float32)
            parts.append(r)
        res = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        seam_mask = np.concatenate(seam)
        # products cut by a seam score lower than the same product seen whole in the neighbouring tile
        scores = res["scores"] * np.where(seam_mask, 0.5, 1.0)
        keep = batched_nms(torch.from_numpy(res["boxes"]), torch.from_numpy(scores.astype(np.float32)),
                           torch.from_numpy(res["labels"]), self.iou).numpy()
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
    drop = np.zeros(len(boxes), bool)
    frag, whole = np.nonzero(seam)[0], np.nonzero(~seam)[0]
    if len(frag) == 0 or len(whole) == 0:
        return drop
    a, b = boxes[frag][:, None], boxes[whole][None]
    iw = (np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])).clip(0)
    ih = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])).clip(0)
    area = ((a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])).clip(1e-6)
    same = labels[frag][:, None] == labels[whole][None]
    drop[frag] = ((iw * ih / area) * same).max(1) > thr
    return drop
