"""Where everything stands on a synthetic shelf unit, before it is painted and put in perspective.

Coordinates are pixels of the flat "canvas" (the shelf unit seen straight on); rectangles are integer
``x0, y0, x1, y1`` with ``x1``/``y1`` exclusive.
"""
from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np

from shelfscan.synth.catalog import Catalog

TAG_STYLES = (  # (tag colour, ink) RGB
    ((250, 214, 40), (20, 20, 20)), ((246, 246, 240), (20, 20, 20)), ((250, 250, 250), (200, 30, 30)),
    ((255, 236, 120), (30, 30, 30)), ((230, 40, 40), (250, 250, 250)),
)


@dataclass
class ShelfStyle:
    """Image-wide look of a shelf unit.

    Attributes:
        back_rgb: colour of the back panel, (3,) uint8; ``pegboard`` adds a grid of holes.
        lip_rgb: colour of the shelf edges (the strip holding the price tags).
        lip_frac: shelf-edge height as a fraction of the row pitch.
        tag_rgb, tag_ink: price tag colour and text colour; ``tag_rate`` the chance a run of facings has a tag;
            ``tag_protrude`` how far tags reach above the edge, a fraction of the product height (<= 0.25).
        n_bays: shelf sections side by side, each with its own shelf heights, split by uprights.
        floor: whether the bottom of the unit and the floor are in the picture.
        fill: product height over the free height of a row.
        sink: how much of a product's bottom the shelf edge hides, a fraction of its height (<= 0.06).
        spacing: mean gap between neighbouring facings, a fraction of the facing width.
        gap_rate: chance of an empty slot (out of stock) before a run.
        side: ``""``, ``"left"`` or ``"right"``: a plain wall (aisle end) of ``side_frac`` of the width there.
        header: height of a sign band over the unit, a fraction of the height (0 for none).
        wall_rgb, sign_rgb, sign_text: colours of the wall and sign, the sign's words.
    """

    back_rgb: np.ndarray
    pegboard: bool
    lip_rgb: np.ndarray
    lip_frac: float
    tag_rgb: tuple[int, int, int]
    tag_ink: tuple[int, int, int]
    tag_rate: float
    tag_protrude: float
    n_bays: int
    floor: bool
    fill: float
    sink: float
    spacing: float
    gap_rate: float
    side: str = ""
    side_frac: float = 0.0
    header: float = 0.0
    wall_rgb: np.ndarray = field(default_factory=lambda: np.array([200, 196, 186], np.float32))
    sign_rgb: np.ndarray = field(default_factory=lambda: np.array([30, 80, 160], np.uint8))
    sign_text: str = ""


def random_style(rng: np.random.Generator) -> ShelfStyle:
    grey = rng.uniform(25, 110) if rng.random() < 0.65 else rng.uniform(110, 220)
    back = np.clip(grey + rng.normal(0, 8, 3), 0, 255).astype(np.uint8)
    lip_grey = rng.choice([rng.uniform(200, 245), rng.uniform(25, 70), rng.uniform(140, 190)], p=[0.6, 0.2, 0.2])
    lip = np.clip(lip_grey + rng.normal(0, 6, 3), 0, 255).astype(np.uint8)
    tag_rgb, tag_ink = TAG_STYLES[int(rng.integers(len(TAG_STYLES)))]
    return ShelfStyle(
        back_rgb=back, pegboard=bool(rng.random() < 0.35), lip_rgb=lip, lip_frac=float(rng.uniform(0.12, 0.24)),
        tag_rgb=tag_rgb, tag_ink=tag_ink, tag_rate=float(rng.uniform(0.3, 0.9)),
        tag_protrude=float(rng.uniform(0.0, 0.25)) if rng.random() < 0.6 else 0.0,
        n_bays=int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])), floor=bool(rng.random() < 0.35),
        fill=float(rng.uniform(0.72, 0.93)), sink=float(rng.uniform(0.0, 0.06)),
        spacing=float(rng.uniform(0.0, 0.08)), gap_rate=float(rng.uniform(0.0, 0.15)),
        side=str(rng.choice(["", "left", "right"], p=[0.7, 0.15, 0.15])), side_frac=float(rng.uniform(0.06, 0.2)),
        header=float(rng.uniform(0.04, 0.12)) if rng.random() < 0.2 else 0.0,
        wall_rgb=rng.uniform(120, 235, 3).astype(np.float32), sign_rgb=rng.integers(0, 256, 3).astype(np.uint8),
        sign_text=" ".join("".join(rng.choice(list(string.ascii_uppercase), int(rng.integers(3, 9))))
                           for _ in range(3)),
    )


@dataclass
class ShelfLayout:
    """Rectangles of everything on the canvas.

    Attributes:
        size: canvas ``(width, height)``.
        products: int32 (N, 4), the full front of each pack (parts may hide behind the shelf edge).
        sku: int64 (N,) catalog ids.
        visible_bottom: int32 (N,), the row where the shelf edge starts covering the pack (``y1`` if it does not).
        gain: float32 (N,) brightness of each facing (packs pushed back are darker).
        lips, tags, uprights: int32 (M, 4) shelf edges, price tags, vertical uprights between bays.
        rows: float32 (R, 4) ``x0, x1, top, bottom`` of each row's free space (for the shadow under a shelf).
        kick: int32 (B, 4) base plates under the lowest shelf; ``floor`` int32 (B, 4) floor below them.
        walls: int32 (W, 4) plain wall beside the unit; signs: int32 (S, 4) sign bands above it.
        pegs: int32 (K, 4) hooks that hanging products hang from.
    """

    size: tuple[int, int]
    products: np.ndarray
    sku: np.ndarray
    visible_bottom: np.ndarray
    gain: np.ndarray
    lips: np.ndarray
    tags: np.ndarray
    uprights: np.ndarray
    rows: np.ndarray
    kick: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    floor: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    walls: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    signs: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))
    pegs: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.int32))

    def __len__(self) -> int:
        return len(self.products)

    def keep(self, mask: np.ndarray) -> "ShelfLayout":
        """Same layout with only the products where ``mask`` (N,) bool is set (the others become gaps)."""
        return ShelfLayout(self.size, self.products[mask], self.sku[mask], self.visible_bottom[mask],
                           self.gain[mask], self.lips, self.tags, self.uprights, self.rows, self.kick, self.floor,
                           self.walls, self.signs, self.pegs)


class _FamilyQueue:
    """Hands out families in a random order so that different shelves show different SKUs."""

    def __init__(self, rng: np.random.Generator, catalog: Catalog) -> None:
        self.rng, self.catalog = rng, catalog
        self.order = list(rng.permutation(catalog.num_families))

    def next(self, kind: str | None = None) -> int:
        if not self.order:
            self.order = list(self.rng.permutation(self.catalog.num_families))
        if kind is not None:
            for i, f in enumerate(self.order[:40]):
                if self.catalog.shapes[int(self.catalog.family_members(f)[0])].kind == kind:
                    return int(self.order.pop(i))
        return int(self.order.pop(0))


def _row_runs(rng: np.random.Generator, catalog: Catalog, families: list[int]) -> list[int]:
    """SKUs of the runs of a row in order, cycling over the row's families' variants."""
    runs = []
    for f in families:
        members = catalog.family_members(f)
        k = int(rng.integers(1, len(members) + 1))
        runs += [int(s) for s in rng.permutation(members)[:k]]
    return runs


@dataclass
class _Placed:
    """Lists make_layout fills row by row."""

    products: list = field(default_factory=list)
    skus: list = field(default_factory=list)
    vis: list = field(default_factory=list)
    gains: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    pegs: list = field(default_factory=list)


def make_layout(rng: np.random.Generator, catalog: Catalog, style: ShelfStyle, size: tuple[int, int],
                pitch: float) -> ShelfLayout:
    """Place shelves, products in runs of identical facings, gaps and price tags.

    A bay on a pegboard may instead hold products hanging from hooks in rows, without shelves.

    Args:
        size: canvas ``(width, height)`` in pixels.
        pitch: mean distance between shelves in pixels (sets the product size, hence the count).
    """
    cw, ch = size
    tex_h = catalog.textures[0].shape[0]
    queue = _FamilyQueue(rng, catalog)
    out = _Placed()
    lips, uprights, rows, kicks, floors = [], [], [], [], []
    up_w = max(3, int(cw * rng.uniform(0.01, 0.022)))
    ux0, ux1, walls = 0, cw, []
    if style.side == "left":
        ux0 = int(style.side_frac * cw)
        walls.append((0, 0, ux0 - up_w, ch))
        uprights.append((ux0 - up_w, 0, ux0, ch))
    elif style.side == "right":
        ux1 = int((1 - style.side_frac) * cw)
        walls.append((ux1 + up_w, 0, cw, ch))
        uprights.append((ux1, 0, ux1 + up_w, ch))
    signs = [(ux0, 0, ux1, int(style.header * ch))] if style.header else []
    widths = rng.uniform(0.6, 1.4, style.n_bays)  # bays of comparable width, none narrower than ~1/5 of the unit
    cuts = ux0 + np.cumsum(widths / widths.sum())[:-1] * (ux1 - ux0)
    edges = [float(ux0)] + [float(c) for c in cuts] + [float(ux1)]
    floor_y = ch * rng.uniform(0.85, 0.97) if style.floor else np.inf
    for b in range(style.n_bays):
        bx0 = int(edges[b] + (up_w / 2 if b > 0 else 0))
        bx1 = int(edges[b + 1] - (up_w / 2 if b < style.n_bays - 1 else 0))
        if b < style.n_bays - 1:
            uprights.append((bx1, 0, bx1 + up_w, ch))
        hang = style.pegboard and rng.random() < 0.3
        p_bay = pitch * rng.uniform(0.92, 1.08)
        y = style.header * ch if style.header else -rng.uniform(0.1, 0.9) * p_bay
        while y < ch:
            lip_h = 0.0 if hang else max(2.0, p_bay * style.lip_frac)
            clearance = p_bay * rng.uniform(0.88, 1.12) - lip_h
            base = y + clearance
            if base + lip_h > floor_y:
                kick_y1 = y + max(4.0, 0.35 * p_bay)
                kicks.append((bx0, int(y), bx1, int(kick_y1)))
                floors.append((bx0, int(kick_y1), bx1, ch))
                break
            if not hang:
                rows.append((bx0, bx1, y, base))
                lips.append((bx0, int(round(base)), bx1, int(round(base + lip_h))))
            _fill_row(rng, catalog, style, queue, tex_h, (bx0, bx1), (y, base), lip_h, hang, out)
            y = base + lip_h
    as_i32 = lambda rects: np.array(rects, np.int32).reshape(-1, 4)  # noqa: E731
    return ShelfLayout((cw, ch), as_i32(out.products), np.array(out.skus, np.int64), np.array(out.vis, np.int32),
                       np.array(out.gains, np.float32), as_i32(lips), as_i32(out.tags), as_i32(uprights),
                       np.array(rows, np.float32).reshape(-1, 4), as_i32(kicks), as_i32(floors), as_i32(walls),
                       as_i32(signs), as_i32(out.pegs))


def _row_families(rng: np.random.Generator, catalog: Catalog, queue: _FamilyQueue, hang: bool) -> list[int]:
    """One to three product families for a row; on hooks they hang (boxes: blister cards, or bags)."""
    first = queue.next(str(rng.choice(["box", "bag"])) if hang else None)  # blister cards and bags hang
    families = [first]
    kind = catalog.shapes[int(catalog.family_members(first)[0])].kind
    for _ in range(int(rng.choice([0, 1, 2], p=[0.35, 0.45, 0.2]))):
        families.append(queue.next(kind if hang or rng.random() < 0.7 else None))
    return families


def _stack_counts(rng: np.random.Generator, catalog: Catalog, families: list[int], hang: bool) -> dict[int, int]:
    """Facings stacked per family (1-3 for squat boxes standing on a shelf, else 1)."""
    stack = {}
    for f in families:
        sku0 = int(catalog.family_members(f)[0])
        can_stack = catalog.shapes[sku0].kind == "box" and catalog.shapes[sku0].aspect < 1.3 and not hang
        stack[f] = int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])) if can_stack else 1
    return stack


def _place_facing(out: _Placed, xi: int, w: int, h: int, n_stack: int, sku: int, gain: float,
                  top_base: tuple[float, float], clearance: float, sink: int, hang: bool) -> None:
    """One facing at ``xi``: ``n_stack`` packs of ``w × h`` standing on the base (sunk by ``sink``), or one on a
    hook from the board."""
    top, base = top_base
    if hang:  # a hook from the board to the pack's top
        peg_y1 = int(round(top + 0.12 * clearance))
        out.pegs.append((xi + w // 2 - max(1, w // 16), int(round(top + 0.02 * clearance)),
                         xi + w // 2 + max(1, w // 16) + 1, peg_y1))
        y1 = peg_y1 + h
    else:
        y1 = int(round(base)) + sink
    for _ in range(n_stack):
        out.products.append((xi, y1 - h, xi + w, y1))
        out.skus.append(sku)
        out.vis.append(y1 if hang else min(y1, int(round(base))))
        out.gains.append(gain)
        y1 -= h


def _add_tag(rng: np.random.Generator, style: ShelfStyle, out: _Placed, run_x0: float, w: int, h: int, base: float,
             lip_h: float) -> float:
    """A price tag on the shelf edge under a run starting at ``run_x0``; returns the x its right side ends at (+2)."""
    tag_w = min(max(1.8 * lip_h, 0.8 * w), 3.5 * lip_h)
    protrude = style.tag_protrude * h * rng.uniform(0.6, 1.0)
    tx0 = run_x0 + rng.uniform(0, 0.3) * w
    ty1 = base + lip_h * rng.uniform(0.8, 0.95)
    ty0 = base - protrude + lip_h * rng.uniform(0.02, 0.12)
    out.tags.append((int(round(tx0)), int(round(ty0)), int(round(tx0 + tag_w)), int(round(ty1))))
    return tx0 + tag_w + 2


def _fill_row(rng: np.random.Generator, catalog: Catalog, style: ShelfStyle, queue: _FamilyQueue, tex_h: int,
              span: tuple[int, int], top_base: tuple[float, float], lip_h: float, hang: bool, out: _Placed) -> None:
    """Fill one row from left to right with runs of facings.

    Args:
        span: ``(x_start, x_end)`` of the row; top_base: ``(top, base)``, its free space above the shelf.
        lip_h: height of the shelf edge under the row (its price tags sit on it).
        hang: products hang from hooks below ``top`` instead of standing on ``base``.
    """
    x_start, x_end = span
    top, base = top_base
    clearance = base - top
    families = _row_families(rng, catalog, queue, hang)
    run_skus = _row_runs(rng, catalog, families)
    row_fill = min(0.97, style.fill * rng.uniform(0.93, 1.05)) * (0.8 if hang else 1.0)
    tallest = max(float(catalog.height_factor[catalog.family_members(f)[0]]) for f in families)
    stack = _stack_counts(rng, catalog, families, hang)
    spacing = style.spacing + (rng.uniform(0.1, 0.3) if hang else 0.0)
    x = x_start + rng.uniform(0, 0.02) * (x_end - x_start)
    last_tag_x1 = -np.inf
    i_run = 0
    while True:
        sku = run_skus[i_run % len(run_skus)]
        i_run += 1
        n_stack = stack[int(catalog.family[sku])]
        h = int(round(clearance * row_fill * float(catalog.height_factor[sku]) / tallest / n_stack))
        if h < 4:
            return
        w = max(2, int(round(catalog.textures[sku].shape[1] * h / tex_h)))
        if i_run > 1 and rng.random() < style.gap_rate:
            x += w * rng.uniform(0.6, 1.8)
        n = 1 if rng.random() < 0.12 else int(rng.integers(2, 10))
        run_x0 = x
        sink = 0 if hang else int(round(style.sink * h * n_stack))
        for _ in range(n):
            if x + w > x_end:
                break
            gain = 0.82 if rng.random() < 0.08 else rng.uniform(0.92, 1.04)
            _place_facing(out, int(round(x)), w, h, n_stack, sku, gain, top_base, clearance, sink, hang)
            x += w * (1 + rng.uniform(0.3, 1.7) * spacing)
        if x + w > x_end and x == run_x0:
            return
        if not hang and rng.random() < style.tag_rate and run_x0 > last_tag_x1:
            last_tag_x1 = _add_tag(rng, style, out, run_x0, w, h, base, lip_h)
        if x + w > x_end:
            return
