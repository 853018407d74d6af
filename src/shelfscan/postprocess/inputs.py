"""Checking and converting the raw candidates that every merger takes (numpy arrays or torch tensors)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shelfscan.box_ops import box_centres
from shelfscan.errors import InputError, expect


@dataclass
class Candidates:
    """Raw detector candidates of one image, before any suppression, as float64 numpy arrays.

    Attributes:
        boxes: (N, 4) ``x1, y1, x2, y2`` absolute pixels, ``x2 >= x1`` and ``y2 >= y1``.
        hard: (N,) objectness ("hard") score, finite and >= 0.
        soft: (N,) predicted-IoU ("soft") score, finite and >= 0; equal to ``hard`` when none was given.
        class_ids: (N,) int64 class of each candidate, or None (one class).
    """

    boxes: np.ndarray
    hard: np.ndarray
    soft: np.ndarray
    class_ids: np.ndarray | None

    def __len__(self) -> int:
        return len(self.boxes)

    def confidence(self, hard_score_rate: float) -> np.ndarray:
        """Blended confidence ``hard^r · soft^(1 − r)`` (:func:`~shelfscan.postprocess.scores.blend_scores`), (N,)."""
        from shelfscan.postprocess.scores import blend_scores

        return blend_scores(self.hard, self.soft, hard_score_rate)


def _to_numpy(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensor, without importing torch here
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected an array of numbers, got {type(value).__name__} ({exc})") from exc


def _scores(value: Any, name: str, n: int) -> np.ndarray:
    arr = _to_numpy(value, name)
    expect(arr.shape == (n,), name, f"shape ({n},) to match boxes", arr.shape)
    bad = ~np.isfinite(arr) | (arr < 0)
    expect(not bad.any(), name, "finite values >= 0", arr[bad][:5].tolist())
    return arr


def check_candidates(boxes: Any, hard_scores: Any, iou_scores: Any = None, class_ids: Any = None) -> Candidates:
    """Validate and convert candidates; raise :class:`InputError` saying expected-vs-got on bad input.

    Args:
        boxes: (N, 4) xyxy, numpy array, torch tensor or nested sequence.
        hard_scores: (N,) objectness scores.
        iou_scores: (N,) predicted-IoU scores or None.
        class_ids: (N,) integer classes or None.
    """
    arr = _to_numpy(boxes, "boxes")
    if arr.size == 0:
        arr = arr.reshape(0, 4)
    expect(arr.ndim == 2 and arr.shape[1] == 4, "boxes", "shape (N, 4) in x1, y1, x2, y2 order", arr.shape)
    n = len(arr)
    finite = np.isfinite(arr).all(1)
    expect(finite.all(), "boxes", "finite coordinates", arr[~finite][:3].tolist())
    flipped = (arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1])
    expect(not flipped.any(), "boxes", "x2 >= x1 and y2 >= y1 (xyxy order)", arr[flipped][:3].tolist())
    hard = _scores(hard_scores, "hard_scores", n)
    soft = hard if iou_scores is None else _scores(iou_scores, "iou_scores", n)
    ids = None
    if class_ids is not None:
        raw = class_ids.detach().cpu().numpy() if hasattr(class_ids, "detach") else np.asarray(class_ids)
        expect(raw.shape == (n,), "class_ids", f"shape ({n},) to match boxes", raw.shape)
        expect(raw.dtype.kind in "iub", "class_ids", "integers", str(raw.dtype))
        ids = raw.astype(np.int64)
    return Candidates(arr, hard, soft, ids)


def check_image_size(image_size: Any) -> tuple[int, int]:
    """``(height, width)`` in pixels, both positive integers (torchvision's order)."""
    try:
        h, w = (int(v) for v in image_size)
        ok = (h, w) == tuple(image_size) and h > 0 and w > 0
    except (TypeError, ValueError):
        ok = False
    expect(ok, "image_size", "(height, width) as two positive integers", image_size)
    return h, w


def check_centres_inside(boxes: np.ndarray, image_size: tuple[int, int]) -> None:
    """Every box centre must lie in ``[0, width] x [0, height]``; catches ``(width, height)`` passed as
    ``image_size`` and boxes in another image's coordinates."""
    cx, cy = box_centres(boxes).T
    out = (cx < 0) | (cy < 0) | (cx > image_size[1]) | (cy > image_size[0])
    if out.any():
        raise InputError(f"boxes: expected centres inside image_size (height, width) = {tuple(image_size)}, "
                         f"got {int(out.sum())} outside, e.g. (x, y) = ({cx[out][0]:.1f}, {cy[out][0]:.1f})")


def check_fraction(value: Any, name: str, *, low_open: bool = False) -> float:
    """A number in [0, 1] (or (0, 1] with ``low_open``)."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    ok = ok and (0 < value <= 1 if low_open else 0 <= value <= 1)
    expect(ok, name, "a number in (0, 1]" if low_open else "a number in [0, 1]", value)
    return float(value)


def check_max_det(max_det: Any) -> int | None:
    """None (keep all) or a positive integer."""
    ok = max_det is None or (isinstance(max_det, (int, np.integer)) and not isinstance(max_det, bool)
                             and max_det > 0)
    expect(ok, "max_det", "None or a positive integer", max_det)
    return None if max_det is None else int(max_det)


def like_input(template: Any, *arrays: np.ndarray) -> tuple[Any, ...]:
    """Return ``arrays`` in the kind of ``template``: torch tensors on its device when it is a tensor, else numpy.

    Integer arrays become int64; float arrays take ``template``'s float dtype (float32 when it has none).
    """
    if hasattr(template, "detach"):
        import torch

        float_dtype = template.dtype if template.is_floating_point() else torch.float32
        return tuple(torch.from_numpy(np.ascontiguousarray(a)).to(
            device=template.device, dtype=torch.int64 if a.dtype.kind in "iu" else float_dtype) for a in arrays)
    kind = getattr(template, "dtype", None)
    float_dtype = kind if kind is not None and np.dtype(kind).kind == "f" else np.float32
    return tuple(a.astype(np.int64 if a.dtype.kind in "iu" else float_dtype) for a in arrays)
