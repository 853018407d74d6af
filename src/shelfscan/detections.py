"""The one container for boxes that flows through shelfscan: ground truth, predictions, crops' groups."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from shelfscan.box_ops import box_area, box_centres, xywh_to_xyxy, xyxy_to_xywh
from shelfscan.errors import InputError, expect

SV_CLASS_NAME = "class_name"  # supervision's data key for each box's label (supervision.config.CLASS_NAME_DATA_FIELD)
SV_CLASS_NAMES = "class_names"  # the metadata key (of supervision.Detections) that carries the whole class list
_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    """Whether two metadata values are equal (False when they cannot be compared to one bool, e.g. arrays)."""
    try:
        return a is b or bool(a == b)
    except (TypeError, ValueError):
        return False


def _as_array(value: Any, dtype: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach"):  # torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"Detections.{name}: expected an array convertible to {np.dtype(dtype).name}, "
                         f"got {type(value).__name__} ({exc})") from exc


@dataclass
class Detections:
    """Boxes of one image, with scores, classes and per-box extras.

    Close to ``supervision.Detections`` (see :meth:`to_supervision`): ``scores`` is its ``confidence`` (here
    never None), ``class_id`` and ``data`` mean the same, ``class_names`` travels in its ``metadata``.

    Attributes:
        xyxy: float32 array (N, 4), absolute pixel corners ``x1, y1, x2, y2``.
        scores: float32 array (N,). Ground truth carries 1.0 (the default when ``scores`` is not given).
        class_id: int64 array (N,), indices into ``class_names`` (default all 0).
        class_names: names of the classes ``class_id`` refers to (default ``["object"]``).
        data: per-box extras, each an array whose first dimension is N, e.g. ``iou_score`` (N,),
            ``embedding`` (N, D), ``cluster_id`` (N,).
        metadata: extras of the whole image rather than of each box (supervision's ``metadata``), e.g.
            ``imgsz``, the working size :meth:`shelfscan.inference.Detector.predict` ran this photo at. Kept by
            indexing; :meth:`merge` keeps the entries all parts agree on.

    Indexing with an int, slice, boolean mask or index array returns a new ``Detections``.
    Empty detections (N = 0) are a normal case everywhere.
    """

    xyxy: np.ndarray
    scores: np.ndarray | None = None
    class_id: np.ndarray | None = None
    class_names: list[str] = field(default_factory=lambda: ["object"])
    data: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyxy = _as_array(self.xyxy, np.float32, "xyxy")
        if xyxy.size == 0:
            xyxy = xyxy.reshape(0, 4)
        expect(xyxy.ndim == 2 and xyxy.shape[1] == 4, "Detections.xyxy", "shape (N, 4)", xyxy.shape)
        n = len(xyxy)
        scores = np.ones(n, np.float32) if self.scores is None else _as_array(self.scores, np.float32, "scores")
        scores = scores.reshape(-1) if scores.size == n else scores
        expect(scores.shape == (n,), "Detections.scores", f"shape ({n},)", scores.shape)
        class_id = np.zeros(n, np.int64) if self.class_id is None else _as_array(self.class_id, np.int64, "class_id")
        class_id = class_id.reshape(-1) if class_id.size == n else class_id
        expect(class_id.shape == (n,), "Detections.class_id", f"shape ({n},)", class_id.shape)
        names = list(self.class_names)
        expect(all(isinstance(c, str) for c in names), "Detections.class_names", "a list of str", names)
        if n and len(names):
            bad = (class_id < 0) | (class_id >= len(names))
            expect(not bad.any(), "Detections.class_id", f"values in [0, {len(names)})",
                   sorted(set(class_id[bad].tolist()))[:5])
        data: dict[str, np.ndarray] = {}
        for key, value in dict(self.data).items():
            arr = value if isinstance(value, np.ndarray) else _as_array(value, None, f"data[{key!r}]")
            expect(arr.ndim >= 1 and len(arr) == n, f"Detections.data[{key!r}]", f"first dimension {n}",
                   arr.shape)
            data[key] = arr
        expect(isinstance(self.metadata, Mapping), "Detections.metadata", "a dict", type(self.metadata).__name__)
        self.xyxy, self.scores, self.class_id, self.class_names, self.data = xyxy, scores, class_id, names, data
        self.metadata = dict(self.metadata)

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def empty(cls, class_names: Sequence[str] = ("object",)) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), class_names=list(class_names))

    @classmethod
    def merge(cls, items: Iterable["Detections"]) -> "Detections":
        """Concatenate detections that share ``class_names`` and ``data`` keys."""
        items = list(items)
        if not items:
            return cls.empty()
        names = items[0].class_names
        keys = set(items[0].data)
        for d in items[1:]:
            expect(d.class_names == names, "Detections.merge class_names", names, d.class_names)
            expect(set(d.data) == keys, "Detections.merge data keys", sorted(keys), sorted(d.data))
        return cls(
            np.concatenate([d.xyxy for d in items]),
            np.concatenate([d.scores for d in items]),
            np.concatenate([d.class_id for d in items]),
            list(names),
            {k: np.concatenate([d.data[k] for d in items]) for k in keys},
            {k: v for k, v in items[0].metadata.items() if all(_same(d.metadata.get(k, _MISSING), v)
                                                               for d in items[1:])},
        )

    # -- access ---------------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Any) -> "Detections":
        if isinstance(index, (int, np.integer)):
            index = [int(index)]
        if isinstance(index, np.ndarray) and index.dtype == bool:
            expect(index.shape == (len(self),), "Detections[mask]", f"a boolean mask of shape ({len(self)},)",
                   index.shape)
        return Detections(self.xyxy[index], self.scores[index], self.class_id[index], list(self.class_names),
                          {k: v[index] for k, v in self.data.items()}, dict(self.metadata))

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    @property
    def labels(self) -> list[str]:
        """Class name of each box."""
        return [self.class_names[i] for i in self.class_id.tolist()]

    @property
    def area(self) -> np.ndarray:
        """float32 (N,) box areas (0 for inverted boxes)."""
        return box_area(self.xyxy, dtype=None)

    @property
    def centers(self) -> np.ndarray:
        """float32 (N, 2) box centres ``(cx, cy)``."""
        return box_centres(self.xyxy)

    def with_scores_above(self, threshold: float) -> "Detections":
        return self[self.scores >= threshold]

    def sorted_by_score(self) -> "Detections":
        return self[np.argsort(-self.scores, kind="stable")]

    def counts(self) -> dict[str, int]:
        """Number of boxes per class name (classes with no box are left out)."""
        ids, n = np.unique(self.class_id, return_counts=True)
        return {self.class_names[i]: int(c) for i, c in zip(ids.tolist(), n.tolist())}

    def __repr__(self) -> str:
        extras = f", data={sorted(self.data)}" if self.data else ""
        return f"Detections(n={len(self)}, classes={self.class_names}{extras})"

    # -- converters ------------------------------------------------------------------------------------------------
    def to_supervision(self):
        """Return a ``supervision.Detections`` (needs ``pip install shelfscan[supervision]``).

        Fields map as: ``xyxy`` -> ``xyxy``, ``scores`` -> ``confidence``, ``class_id`` -> ``class_id`` (unchanged
        ids), ``data`` -> ``data`` (plus ``data["class_name"]``, the label of each box, as supervision's own
        annotators read it) and ``class_names`` -> ``metadata["class_names"]`` (the whole list, used classes or
        not, in order), so :meth:`from_supervision` gives back the same names and ids. (supervision < 0.24 has
        no ``metadata``: the list is then not carried.)
        """
        try:
            import supervision as sv
        except ImportError as exc:
            raise ImportError("to_supervision needs the supervision package: pip install 'shelfscan[supervision]'") from exc
        data = dict(self.data)
        data[SV_CLASS_NAME] = np.array(self.labels, dtype=object) if len(self) else np.zeros(0, dtype=object)
        fields = {"xyxy": self.xyxy.copy(), "confidence": self.scores.copy(), "class_id": self.class_id.copy(),
                  "data": data}
        try:
            return sv.Detections(**fields, metadata={**self.metadata, SV_CLASS_NAMES: list(self.class_names)})
        except TypeError:  # supervision < 0.24: no metadata
            return sv.Detections(**fields)

    @classmethod
    def from_supervision(cls, detections: Any, class_names: Sequence[str] | None = None) -> "Detections":
        """Build from a ``supervision.Detections`` (``confidence`` -> ``scores``; see :meth:`to_supervision`).

        Class names come from ``class_names`` if given, else ``metadata["class_names"]`` (written by
        :meth:`to_supervision`: names and ids come back unchanged), else the ``class_name`` data of the boxes
        (then the names present, sorted, and ids renumbered into them), else ``["object"]`` / ``class_<i>``.

        Raises:
            InputError: ``metadata["class_names"]`` is not a list of str, or disagrees with ``data["class_name"]``.
        """
        data = {k: np.asarray(v) for k, v in getattr(detections, "data", {}).items()}
        sv_names = data.pop(SV_CLASS_NAME, None)
        class_id = detections.class_id
        carried = (getattr(detections, "metadata", None) or {}).get(SV_CLASS_NAMES)
        if class_names is None and carried is not None:
            class_names = list(carried)
            expect(all(isinstance(c, str) for c in class_names), f"supervision metadata[{SV_CLASS_NAMES!r}]",
                   "a list of str", class_names)
            if sv_names is not None and class_id is not None and len(class_id):
                labels = [class_names[i] if 0 <= i < len(class_names) else None for i in np.asarray(class_id).tolist()]
                expect(labels == [str(s) for s in sv_names], f"supervision data[{SV_CLASS_NAME!r}]",
                       f"the names of class_id in metadata[{SV_CLASS_NAMES!r}] {labels[:5]}", list(sv_names[:5]))
        if class_names is None:
            if sv_names is not None and len(sv_names):
                class_names = sorted(set(map(str, sv_names)))
                class_id = np.array([class_names.index(str(s)) for s in sv_names])
            else:
                n_cls = int(class_id.max()) + 1 if class_id is not None and len(class_id) else 1
                class_names = ["object"] if n_cls == 1 else [f"class_{i}" for i in range(n_cls)]
        metadata = {k: v for k, v in (getattr(detections, "metadata", None) or {}).items() if k != SV_CLASS_NAMES}
        return cls(detections.xyxy, detections.confidence, class_id, list(class_names), data, metadata)

    def to_coco_results(self, image_id: int, category_ids: Sequence[int] | None = None) -> list[dict]:
        """COCO results entries ``{"image_id", "category_id", "bbox": [x, y, w, h], "score"}``.

        ``category_ids[class_id]`` gives the COCO category id (default ``class_id + 1``).
        """
        cats = np.arange(1, len(self.class_names) + 1) if category_ids is None else np.asarray(category_ids)
        xywh = xyxy_to_xywh(self.xyxy.astype(np.float64)).tolist()
        return [{"image_id": int(image_id), "category_id": int(cats[c]), "bbox": box, "score": float(s)}
                for box, s, c in zip(xywh, self.scores.tolist(), self.class_id.tolist())]

    @classmethod
    def from_coco_results(cls, results: Sequence[dict], class_names: Sequence[str],
                          category_ids: Sequence[int] | None = None) -> "Detections":
        """Inverse of :meth:`to_coco_results` for the entries of one image."""
        cats = list(range(1, len(class_names) + 1)) if category_ids is None else list(category_ids)
        lookup = {c: i for i, c in enumerate(cats)}
        xywh, scores, ids = [], [], []
        for k, r in enumerate(results):
            x, y, w, h = r["bbox"]
            if r["category_id"] not in lookup:
                raise InputError(f"COCO result {k}: expected category_id in {cats}, got {r['category_id']!r}")
            xywh.append((x, y, w, h))
            scores.append(r.get("score", 1.0))
            ids.append(lookup[r["category_id"]])
        return cls(xywh_to_xyxy(np.array(xywh, np.float64)).astype(np.float32), np.array(scores, np.float32),
                   np.array(ids, np.int64), list(class_names))
