"""A small inline SVG line chart (no plotting library): series on a left axis and on a right axis (shares)."""
from __future__ import annotations

import html

W, H, PAD = 720, 240, 48
LEFT_COLOURS = ("#1f77b4", "#2ca02c")
RIGHT_COLOURS = ("#d62728", "#ff7f0e")


def _points(values: list, top: float, n: int) -> str:
    step = (W - 2 * PAD) / max(n - 1, 1)
    return " ".join(f"{PAD + i * step:.1f},{H - PAD - (v / top if top else 0) * (H - 2 * PAD):.1f}"
                    for i, v in enumerate(values) if v is not None)


def line_chart(labels: list[str], left: dict[str, list], right: dict[str, list], title: str = "") -> str:
    """SVG text: one polyline per series, x = scan order (labelled with ``labels``), left axis from 0 to the
    largest left value, right axis 0-100 % for shares in [0, 1]. None values are left out of a line."""
    n = len(labels)
    top = max([v for vs in left.values() for v in vs if v is not None] + [1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img">',
             f'<text x="{PAD}" y="20" font-size="14">{html.escape(title)}</text>',
             f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#888"/>',
             f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#888"/>',
             f'<line x1="{W - PAD}" y1="{PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#888"/>',
             f'<text x="{PAD - 4}" y="{PAD + 4}" font-size="11" text-anchor="end">{top:g}</text>',
             f'<text x="{PAD - 4}" y="{H - PAD}" font-size="11" text-anchor="end">0</text>',
             f'<text x="{W - PAD + 4}" y="{PAD + 4}" font-size="11">100%</text>',
             f'<text x="{W - PAD + 4}" y="{H - PAD}" font-size="11">0%</text>']
    series = [(k, v, top, c) for (k, v), c in zip(left.items(), LEFT_COLOURS)]
    series += [(k, v, 1.0, c) for (k, v), c in zip(right.items(), RIGHT_COLOURS)]
    for i, (name, values, scale, colour) in enumerate(series):
        if any(v is not None for v in values):
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{_points(values, scale, n)}"/>')
        parts.append(f'<text x="{PAD + 140 * i}" y="{H - 8}" font-size="12" fill="{colour}">'
                     f'{html.escape(name)}</text>')
    for i in {0, n - 1} if n else set():
        x = PAD + i * (W - 2 * PAD) / max(n - 1, 1)
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 14}" font-size="10" text-anchor="middle">'
                     f'{html.escape(labels[i][:16])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
