"""Annotated image collections as every reader returns them and every writer takes them."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shelfscan.detections import Detections


@dataclass
class LoadReport:
    """What a reader had to fix or skip. Nothing is dropped without being counted here.

    Attributes:
        source: the file or folder read.
        problems: one message per rejected line or file, ``path:line: expected ..., got ...``.
        clipped_boxes: boxes that reached past the image edge and were clipped to it.
        dropped_zero_area: boxes with no area (after clipping) that were dropped.
        corrupt_images: image files that are truncated, corrupt or not images (skipped by default).
        missing_images: images named by annotations but absent on disk.
    """

    source: str = ""
    problems: list[str] = field(default_factory=list)
    clipped_boxes: int = 0
    dropped_zero_area: int = 0
    corrupt_images: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.problems or self.clipped_boxes or self.dropped_zero_area or self.corrupt_images
                    or self.missing_images)

    def merge(self, other: "LoadReport") -> None:
        self.problems += other.problems
        self.clipped_boxes += other.clipped_boxes
        self.dropped_zero_area += other.dropped_zero_area
        self.corrupt_images += other.corrupt_images
        self.missing_images += other.missing_images

    def summary(self, max_lines: int = 10) -> str:
        """Human-readable summary; the first ``max_lines`` problems are listed in full."""
        if self.clean:
            return f"{self.source}: no problems"
        lines = [f"{self.source}: {len(self.problems)} bad lines/files, {self.clipped_boxes} boxes clipped to the "
                 f"image, {self.dropped_zero_area} zero-area boxes dropped, {len(self.corrupt_images)} corrupt "
                 f"images skipped, {len(self.missing_images)} missing images"]
        lines += ["  " + p for p in self.problems[:max_lines]]
        if len(self.problems) > max_lines:
            lines.append(f"  ... and {len(self.problems) - max_lines} more")
        for kind, items in (("corrupt", self.corrupt_images), ("missing", self.missing_images)):
            if items:
                shown = ", ".join(items[:max_lines]) + (" ..." if len(items) > max_lines else "")
                lines.append(f"  {kind} images: {shown}")
        return "\n".join(lines)


@dataclass
class ImageRecord:
    """One image and its boxes.

    Attributes:
        name: the image's path relative to the dataset's image folder (``image_name`` in CSVs), posix style.
        path: where the image file is (may not exist when a reader was asked not to check images).
        width, height: image size in pixels (0 when unknown).
        boxes: the annotated boxes; ``boxes.class_names`` is the dataset's class list.
        labelled: the class names annotated on this image (None: every class of ``boxes.class_names``). Set when
            datasets that label different classes are pooled (:func:`shelfscan.data.combine.concat_datasets`):
            a class outside it may be present on the photo unboxed, so training ignores its loss there.
    """

    name: str
    path: Path
    width: int
    height: int
    boxes: Detections
    labelled: tuple[str, ...] | None = None


@dataclass
class Dataset:
    """Images with boxes, the class list they share and the report of what loading fixed or skipped."""

    root: Path
    class_names: list[str]
    images: list[ImageRecord]
    report: LoadReport = field(default_factory=LoadReport)

    def __len__(self) -> int:
        return len(self.images)

    def __iter__(self):
        return iter(self.images)

    def by_name(self) -> dict[str, ImageRecord]:
        return {r.name: r for r in self.images}

    @property
    def num_boxes(self) -> int:
        return sum(len(r.boxes) for r in self.images)
