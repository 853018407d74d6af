"""``InferenceConfig``: how a :class:`~shelfscan.inference.Detector` runs, and the one place its defaults live.

``Detector``, ``shelfscan detect/count/val/serve/batch`` (their argparse defaults), the server, ``count()`` and the
batch settings all read their defaults from these fields (``InferenceConfig.conf`` is the class default; an
instance is one run's settings). Frozen: change a setting with :func:`dataclasses.replace`, which checks again.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

from shelfscan.errors import expect

MERGERS = ("nms", "em")
RUNTIMES = ("auto", "torch", "onnx")
PRECISIONS = ("auto", "fp32", "int8")


def check_imgsz(imgsz: object, what: str = "imgsz") -> None:
    """InputError unless ``imgsz`` is None, ``"auto"`` or an integer ≥ 32 (not a bool)."""
    import numpy as np

    ok = imgsz is None or imgsz == "auto" or (isinstance(imgsz, (int, np.integer)) and not isinstance(imgsz, bool)
                                              and imgsz >= 32)
    expect(ok, what, "an integer ≥ 32, 'auto' or None", imgsz)


@dataclass(frozen=True)
class InferenceConfig:
    """Every setting of one detector run.

    Attributes:
        imgsz: working size, the longest side (pixels) the photo is scaled to; ``"auto"``: picked per photo by a
            first pass (see ``auto_*``); None: the shipped-model table's choice (``"auto"`` for the shelf model),
            else the model's own size (``DetectorConfig.imgsz``, or an ONNX file's metadata).
        conf: score threshold: candidates scoring under it are dropped before merging.
        iou: IoU above which class-aware NMS (and the seams of ``tile``) suppress the lower-scored box.
        max_det: most boxes kept per photo (1000: no silent 100/300 cap on dense shelves).
        pre_nms_topk: most candidates handed to NMS / the EM-Merger; None: max(4 · max_det, 5000)
            (:func:`shelfscan.inference.predict.default_topk`).
        merger: ``"nms"`` (class-aware NMS) or ``"em"`` (the SKU-110K EM-Merger on the raw candidates).
        hard_score_rate: r in score = cls^r · iou^(1−r); None: the model's own (``DetectorConfig``, 0.5).
        tile: when set, the scaled photo is cut into overlapping tiles of this side, merged across the seams.
        tta: also run the mirrored photo and merge both passes' candidates (twice the time).
        device: ``"cpu"`` or a torch / ONNX Runtime GPU device (``"cuda"``, ``"cuda:0"``).
        threads: CPU threads of the runtime; None: the runtime's default (one per core).
        runtime: ``"auto"`` (shipped models run their ONNX twin on the CPU, checkpoints PyTorch), ``"torch"``
            or ``"onnx"``.
        precision: arithmetic of a shipped model in ONNX Runtime on the CPU: ``"auto"`` (its int8 file when it
            ships one, else fp32), ``"fp32"`` or ``"int8"``; other models run as their file is (``"int8"`` is
            refused for them, as for PyTorch and GPUs).
        auto_side: product side (first-pass pixels) that ``imgsz="auto"`` aims for.
        auto_probe: longest side of the first pass of ``imgsz="auto"``.
        auto_conf: score threshold of that first pass (its own: the size chosen never depends on ``conf``).
        auto_range: (smallest, largest) working size ``"auto"`` may choose.
        auto_min_boxes: fewer first-pass boxes than this: ``"auto"`` keeps the model's own size.
    """

    imgsz: int | str | None = None
    conf: float = 0.25
    iou: float = 0.6
    max_det: int = 1000
    pre_nms_topk: int | None = None
    merger: str = "nms"
    hard_score_rate: float | None = None
    tile: int | None = None
    tta: bool = False
    device: str = "cpu"
    threads: int | None = None
    runtime: str = "auto"
    precision: str = "auto"
    auto_side: float = 40.0
    auto_probe: int = 640
    auto_conf: float = 0.25
    auto_range: tuple[int, int] = (320, 2048)
    auto_min_boxes: int = 8

    def __post_init__(self) -> None:
        check_imgsz(self.imgsz)
        in_unit = "a number in [0, 1]"
        checks = (
            ("conf", _number(self.conf) and 0.0 <= self.conf <= 1.0, in_unit),
            ("iou", _number(self.iou) and 0.0 < self.iou <= 1.0, "a number in (0, 1]"),
            ("max_det", _positive_int(self.max_det), "a positive integer"),
            ("pre_nms_topk", self.pre_nms_topk is None or _positive_int(self.pre_nms_topk),
             "None or a positive integer"),
            ("merger", self.merger in MERGERS, " or ".join(map(repr, MERGERS))),
            ("hard_score_rate", self.hard_score_rate is None or (_number(self.hard_score_rate)
                                                                 and 0.0 <= self.hard_score_rate <= 1.0),
             f"None or {in_unit}"),
            ("tile", self.tile is None or (_positive_int(self.tile) and self.tile >= 32), "None or an integer ≥ 32"),
            ("threads", self.threads is None or _positive_int(self.threads), "None or a positive integer"),
            ("runtime", self.runtime in RUNTIMES, f"one of {RUNTIMES}"),
            ("precision", self.precision in PRECISIONS, f"one of {PRECISIONS}"),
            ("auto_side", _number(self.auto_side) and self.auto_side > 0, "a positive number of pixels"),
            ("auto_probe", _positive_int(self.auto_probe) and self.auto_probe >= 32, "an integer ≥ 32"),
            ("auto_conf", _number(self.auto_conf) and 0.0 <= self.auto_conf <= 1.0, in_unit),
            ("auto_range", _size_range(self.auto_range), "a tuple (lo, hi) of integers with 32 ≤ lo ≤ hi"),
            ("auto_min_boxes", _positive_int(self.auto_min_boxes), "a positive integer"),
        )
        for name, ok, expected in checks:
            expect(ok, name, expected, getattr(self, name))

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The field names, in order (what ``Detector(**options)`` accepts besides ``model`` and ``config``)."""
        return tuple(f.name for f in fields(cls))


def _number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _positive_int(value: object) -> bool:
    import numpy as np

    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def _size_range(value: object) -> bool:
    return (isinstance(value, tuple) and len(value) == 2 and all(map(_positive_int, value))
            and 32 <= value[0] <= value[1])
