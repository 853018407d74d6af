"""What changed between two scans of one shelf: types that vanished or appeared, count changes per type, gaps
opened or closed.

Types are matched across the two photos by their crops: each type's unit mean crop embedding (stored per type by
``shelfscan batch``) is compared by cosine similarity, pairs are chosen by the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``, maximum total similarity), and a pair counts as one product only at
similarity >= ``threshold``; a type one scan split off (unmatched, yet similar to a matched type of the other scan
and bringing that pair's counts closer: :func:`~shelfscan.batch.matching.fold_split_types`) is folded into the
pair, its count added (``folded_a``/``folded_b``, named in the text);
the other unmatched types of A vanished, of B appeared. Gaps are matched by box IoU (greedy,
>= ``gap_iou``), which assumes the two photos frame the shelf alike (a fixed camera, or the same spot).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np
import sqlalchemy as sa

from shelfscan.batch import schema as t
from shelfscan.batch.matching import GAP_IOU, SIM_THRESHOLD, fold_split_types, match_gaps, match_types
from shelfscan.errors import InputError


@dataclass
class StoredScan:
    """A scan read back from the database: its types (id, count, embedding) and gap boxes."""

    id: int
    image: str
    shelf_id: str | None
    taken_at: str
    type_ids: list[int]
    counts: list[int]
    embeddings: np.ndarray | None  # (types, D) float32 unit rows; None when a type has no stored embedding
    gap_boxes: np.ndarray          # (G, 4)
    has_gaps: bool                 # the model reports gaps (n_gaps not NULL)


@dataclass
class TypeChange:
    type_a: int | None
    type_b: int | None
    count_a: int
    count_b: int
    similarity: float | None
    folded_a: list[int] = field(default_factory=list)  # more types of A counted in count_a (one product, split)
    folded_b: list[int] = field(default_factory=list)

    @property
    def delta(self) -> int:
        return self.count_b - self.count_a


@dataclass
class ScanDiff:
    """The changes from scan A to scan B (``changes``: matched types, then vanished, then appeared)."""

    scan_a: int
    scan_b: int
    total_a: int
    total_b: int
    changes: list[TypeChange] = field(default_factory=list)
    gaps_opened: list[list[float]] = field(default_factory=list)
    gaps_closed: list[list[float]] = field(default_factory=list)
    gaps_kept: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def vanished(self) -> list[TypeChange]:
        return [c for c in self.changes if c.type_b is None]

    @property
    def appeared(self) -> list[TypeChange]:
        return [c for c in self.changes if c.type_a is None]

    @property
    def matched(self) -> list[TypeChange]:
        return [c for c in self.changes if c.type_a is not None and c.type_b is not None]

    def to_json(self) -> dict:
        out = asdict(self)
        out["changes"] = [{**asdict(c), "delta": c.delta} for c in self.changes]
        return out

    def text(self) -> str:
        lines = [f"scan {self.scan_a} -> {self.scan_b}: {self.total_a} -> {self.total_b} products"]
        for c in self.matched:
            for side, ids in (("A", c.folded_a), ("B", c.folded_b)):
                lines += [f"  type {i} of scan {side} folded into type {c.type_a if side == 'A' else c.type_b} "
                          f"(one product split in two types)" for i in ids]
            if c.delta:
                lines.append(f"  type {c.type_a} -> {c.type_b}: {c.count_a} -> {c.count_b} ({c.delta:+d}, "
                             f"similarity {c.similarity:.2f})")
        same = sum(1 for c in self.matched if not c.delta)
        lines.append(f"  {same} types unchanged")
        lines += [f"  vanished: type {c.type_a} ({c.count_a} facings)" for c in self.vanished]
        lines += [f"  appeared: type {c.type_b} ({c.count_b} facings)" for c in self.appeared]
        lines.append(f"  gaps: {len(self.gaps_opened)} opened, {len(self.gaps_closed)} closed, "
                     f"{self.gaps_kept} still open")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def load_scan(conn: sa.Connection, scan_id: int) -> StoredScan:
    """Scan ``scan_id`` with its types and gaps (InputError when absent or failed)."""
    from shelfscan.batch.worker import unpack_array

    row = conn.execute(sa.select(t.scans).where(t.scans.c.id == scan_id)).first()
    if row is None or row.status != "ok":
        raise InputError(f"scan {scan_id}: expected the id of a scan counted without error, got "
                         f"{'no such scan' if row is None else 'a failed scan: ' + str(row.error)}")
    types = conn.execute(sa.select(t.types).where(t.types.c.scan_id == scan_id).order_by(t.types.c.type_id)).all()
    blobs = [r.embedding for r in types]
    emb = None
    if types and all(blobs):
        emb = np.stack([unpack_array(b).astype(np.float32).reshape(-1) for b in blobs])
    gaps = conn.execute(sa.select(t.gaps.c.box).where(t.gaps.c.scan_id == scan_id).order_by(t.gaps.c.gap_id)).all()
    boxes = np.array([json.loads(g.box) for g in gaps], np.float64).reshape(-1, 4)
    return StoredScan(row.id, row.image, row.shelf_id, row.taken_at.isoformat() if row.taken_at else "",
                      [r.type_id for r in types], [r.count for r in types], emb, boxes, row.n_gaps is not None)


def _diff_gaps(out: ScanDiff, a: StoredScan, b: StoredScan, gap_iou: float) -> None:
    if not (a.has_gaps and b.has_gaps):
        out.notes.append("gaps not compared: the model of "
                         + ("both scans" if not (a.has_gaps or b.has_gaps) else "one scan") + " has no gap class")
        return
    closed, opened, out.gaps_kept = match_gaps(a.gap_boxes, b.gap_boxes, gap_iou)
    out.gaps_closed = [[float(v) for v in a.gap_boxes[i]] for i in closed]
    out.gaps_opened = [[float(v) for v in b.gap_boxes[i]] for i in opened]


def diff_scans(engine: sa.Engine, scan_a: int, scan_b: int, threshold: float = SIM_THRESHOLD,
               gap_iou: float = GAP_IOU) -> ScanDiff:
    """The :class:`ScanDiff` from ``scan_a`` to ``scan_b``."""
    with engine.connect() as conn:
        a, b = load_scan(conn, scan_a), load_scan(conn, scan_b)
    out = ScanDiff(a.id, b.id, sum(a.counts), sum(b.counts))
    if a.shelf_id != b.shelf_id:
        out.notes.append(f"the scans are of different shelves ({a.shelf_id} and {b.shelf_id})")
    for s in (a, b):
        if s.embeddings is None and s.type_ids:
            raise InputError(f"scan {s.id}: expected type embeddings (stored by shelfscan batch), got none (the "
                             f"scan was copied from results.jsonl); count its photo again into a fresh folder")
    dims = {s.id: s.embeddings.shape[1] for s in (a, b) if s.embeddings is not None}
    if len(set(dims.values())) > 1:
        raise InputError(f"scans {a.id} and {b.id}: expected type embeddings of one crop network, got lengths "
                         f"{dims[a.id]} and {dims[b.id]} (counted by different shelfscan versions); count the older "
                         f"photo again")
    dim = next(iter(dims.values()), 0)
    ea = a.embeddings if a.embeddings is not None else np.zeros((0, dim), np.float32)
    eb = b.embeddings if b.embeddings is not None else np.zeros((0, dim), np.float32)
    pairs = match_types(ea, eb, threshold)
    fold_a, fold_b = fold_split_types(ea, eb, pairs, a.counts, b.counts)
    used_a, used_b = {p[0] for p in pairs} | set(fold_a), {p[1] for p in pairs} | set(fold_b)
    for k, (i, j, sim) in enumerate(pairs):
        change = TypeChange(a.type_ids[i], b.type_ids[j], a.counts[i], b.counts[j], round(sim, 4))
        for extra, fold, scan in (("a", fold_a, a), ("b", fold_b, b)):
            for r in sorted(r for r, pk in fold.items() if pk == k):
                getattr(change, f"folded_{extra}").append(scan.type_ids[r])
                setattr(change, f"count_{extra}", getattr(change, f"count_{extra}") + scan.counts[r])
        out.changes.append(change)
    out.changes.sort(key=lambda c: (c.type_a, c.type_b))
    out.changes += [TypeChange(a.type_ids[i], None, a.counts[i], 0, None) for i in range(len(a.type_ids))
                    if i not in used_a]
    out.changes += [TypeChange(None, b.type_ids[j], 0, b.counts[j], None) for j in range(len(b.type_ids))
                    if j not in used_b]
    _diff_gaps(out, a, b, gap_iou)
    return out
