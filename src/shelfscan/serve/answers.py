"""What the ``/v1`` routes answer: their query-parameter checks, and the JSON bodies computed on the inference
pool (:func:`detect_answer`, :func:`count_answer`) for one decoded photo.

Query parameters are checked before any work: a parameter a route does not know is refused (422, naming it and
listing the accepted ones) rather than silently ignored, and ``imgsz`` is read as ``shelfscan detect --imgsz``
reads it (an integer ≥ 32 or ``auto``; 422 otherwise).
"""
from __future__ import annotations

import base64
import tempfile
from pathlib import Path, PurePath
from typing import Callable, Sequence

import numpy as np
from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from shelfscan.detections import Detections
from shelfscan.errors import InputError

IMGSZ_HELP = ("working size for this photo: longest side in pixels (an integer ≥ 32) or 'auto' (chosen from a "
              "first pass); default: the served model's. The answer's 'imgsz' says which size ran.")


def known_query(route: str, accepted: Sequence[str]) -> Callable[[Request], None]:
    """A FastAPI dependency refusing (422) any query parameter of ``route`` not in ``accepted``."""
    allowed = sorted(accepted)

    def check(request: Request) -> None:
        unknown = sorted({k for k in request.query_params.keys() if k not in allowed})
        if unknown:
            raise StarletteHTTPException(422, f"{route}: expected query parameters among {allowed}, got unknown "
                                              f"{', '.join(repr(k) for k in unknown)}")
    return check


def imgsz_query(text: str | None) -> int | str | None:
    """The ``imgsz`` query parameter -> an integer ≥ 32, ``"auto"`` or None (absent); 422 for anything else."""
    from shelfscan.cli.common import parse_imgsz

    if text is None:
        return None
    try:
        return parse_imgsz(text.strip())
    except InputError as exc:
        raise StarletteHTTPException(422, f"imgsz: {exc}") from None


def jpeg_base64(image: np.ndarray, quality: int = 85) -> str:
    """RGB uint8 (H, W, 3) -> base64 text of a JPEG."""
    from shelfscan.drawing import jpeg_bytes

    return base64.b64encode(jpeg_bytes(image, quality)).decode("ascii")


def safe_name(filename: str | None) -> str:
    """The client's file name for display only: last path component, printable, at most 128 characters."""
    name = PurePath((filename or "upload").replace("\\", "/")).name
    return "".join(c for c in name if c.isprintable())[:128] or "upload"


def detections_json(det: Detections) -> list[dict]:
    """One dict per box: ``box`` [x1, y1, x2, y2] pixels (0.1 px), ``score``, ``class_id``, ``label``, and
    ``iou_score`` (predicted IoU) when present."""
    iou = det.data.get("iou_score")
    rows = []
    for i, (box, score, cid) in enumerate(zip(det.xyxy.tolist(), det.scores.tolist(), det.class_id.tolist())):
        row = {"box": [round(v, 1) for v in box], "score": round(score, 4), "class_id": int(cid),
               "label": det.class_names[cid] if 0 <= cid < len(det.class_names) else str(cid)}
        if iou is not None:
            row["iou_score"] = round(float(iou[i]), 4)
        rows.append(row)
    return rows


def _annotated(rgb: np.ndarray, det: Detections, noun: str) -> str:
    """The /v1/detect picture: gaps hatched red, product boxes (with class and score for tagging models) and a
    banner ``"143 products, 3 gaps"``."""
    from shelfscan.annotate import draw_boxes, draw_count
    from shelfscan.counting.gaps import describe, draw_gaps, has_gap_class, split_gaps

    products, gaps = split_gaps(det)
    multi = len(det.class_names) - has_gap_class(det.class_names) > 1  # tagging models: class and score per box
    labels = [f"{n} {s:.2f}" for n, s in zip(products.labels, products.scores)] if multi else None
    drawn = draw_boxes(draw_gaps(rgb, gaps.xyxy), products, labels=labels)
    n_gaps = len(gaps) if has_gap_class(det.class_names) else None
    return jpeg_base64(draw_count(drawn, describe(len(products), n_gaps, noun)))


def working_size(result, detector) -> int:
    """The working size one photo ran at: ``metadata["imgsz"]`` of its detections (``Detector.predict`` records it
    there, a ``ShelfCount`` keeps it on ``.detections``), else the detector's own fixed size."""
    det = getattr(result, "detections", result)
    return int(getattr(det, "metadata", {}).get("imgsz", detector.imgsz))


def detect_answer(rgb: np.ndarray, job, detector, name: str, images: bool) -> dict:
    """The /v1/detect answer for one decoded photo: ``{"image", "count", "noun", "imgsz", "class_names",
    "counts", "detections"}`` (``annotated_jpeg`` with ``images``; ``time_ms`` is added by the route).
    ``detector`` is the request's own copy (``Detector.with_imgsz``); ``imgsz`` is the size this photo ran at."""
    det = detector.predict(rgb)
    out = {"image": {"name": name}, "count": len(det), "noun": detector.noun, "imgsz": working_size(det, detector),
           "class_names": det.class_names, "counts": {n: c for n, c in det.counts().items() if c},
           "detections": detections_json(det)}
    if images:
        job.check()
        out["annotated_jpeg"] = _annotated(rgb, det, detector.noun)
    return out


def count_answer(rgb: np.ndarray, job, detector, count, method: str | None, conf: float, confirm_below: float,
                 images: bool) -> dict:
    """Detect, group and (optionally) draw, on the inference pool, with ``shelfscan.counting.count`` (the same
    steps as ``shelfscan count``). Returns the ShelfCount JSON dict (with ``"gaps": {"count", "boxes",
    "share_of_width"}`` from a model with a gap class) plus ``noun`` and the ``imgsz`` used."""
    kwargs = {} if method is None else {"method": method}
    shelf = count(rgb, detector=detector, conf=conf, confirm_below=confirm_below, **kwargs)
    out = {**shelf.to_json(), "noun": detector.noun, "imgsz": working_size(shelf, detector)}
    if images:
        job.check()
        with tempfile.TemporaryDirectory(prefix="shelfscan-serve-") as tmp:
            shelf.save(Path(tmp))
            for key, file in (("annotated_jpeg", "annotated.jpg"), ("types_jpeg", "types.jpg")):
                path = Path(tmp) / file
                if path.is_file():
                    out[key] = base64.b64encode(path.read_bytes()).decode("ascii")
    return out
