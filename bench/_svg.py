"""The plot of ``engine_scale.py``: search latency against size, log-log, drawn as SVG by hand
so that no plotting library is needed."""

from __future__ import annotations

import math
from typing import Any

_COLOURS = {"one_user": "#1f5fa8", "multi_user": "#d9730d"}
_LABELS = {"one_user": "one user holds all N", "multi_user": "100 users, N/100 each"}


def plot_svg(rows: list[dict[str, Any]], users: int, targets: dict[int, float]) -> str:
    """Search p50 and p95 per layout against N, with the p95 ``targets`` (ms at N) marked."""
    width, height = 800, 480
    left, right, top, bottom = 78, 250, 40, 62
    sizes = sorted({row["n"] for row in rows})
    values = [row["search"]["latency"][key] for row in rows for key in ("p50_ms", "p95_ms")]
    values += [row["search"]["floor_latency"]["p50_ms"] for row in rows]
    y_low = min([1.0, *values]) / 1.3
    y_high = max([*targets.values(), *values]) * 1.6
    x_low, x_high = min(sizes) / 1.8, max(sizes) * 1.8

    def x(value: float) -> float:
        span = _log(x_high) - _log(x_low)
        return left + (width - left - right) * (_log(value) - _log(x_low)) / span

    def y(value: float) -> float:
        span = _log(y_high) - _log(y_low)
        return height - bottom - (height - top - bottom) * (_log(value) - _log(y_low)) / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">Embedded engine: '
        "search_memory latency against stored memories</text>",
    ]
    ticks = [t for t in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if y_low <= t <= y_high]
    for tick in ticks:
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#e4e4e4"/>'
        )
        out.append(f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for size in sizes:
        out.append(
            f'<line x1="{x(size):.1f}" x2="{x(size):.1f}" y1="{top}" y2="{height - bottom}" '
            'stroke="#e4e4e4"/>'
        )
        out.append(
            f'<text x="{x(size):.1f}" y="{height - bottom + 18}" text-anchor="middle">'
            f"{size // 1000}k</text>"
        )
    out += [
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="#333"/>',
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 18}" text-anchor="middle">'
        "memories N (log scale)</text>",
        f'<text transform="translate(22 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
        'text-anchor="middle">search latency, ms (log scale)</text>',
    ]
    for n, limit in targets.items():
        if x_low <= n <= x_high:
            out.append(
                f'<line x1="{x(n / 1.5):.1f}" x2="{x(n * 1.5):.1f}" y1="{y(limit):.1f}" '
                f'y2="{y(limit):.1f}" stroke="#c0392b" stroke-width="3"/>'
            )
            out.append(
                f'<text x="{x(n / 1.5) - 6:.1f}" y="{y(limit) + 4:.1f}" text-anchor="end" '
                f'fill="#c0392b">p95 target {limit:g} ms</text>'
            )
    legend_y = top + 10
    for layout in _COLOURS:
        series = sorted((r for r in rows if r["layout"] == layout), key=lambda r: r["n"])
        if not series:
            continue
        colour = _COLOURS[layout]
        for key, dash in (("p95_ms", ""), ("p50_ms", ' stroke-dasharray="6 4"')):
            points = " ".join(
                f"{x(r['n']):.1f},{y(r['search']['latency'][key]):.1f}" for r in series
            )
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="2"{dash}/>'
            )
            for r in series:
                out.append(
                    f'<circle cx="{x(r["n"]):.1f}" cy="{y(r["search"]["latency"][key]):.1f}" '
                    f'r="3.5" fill="{colour}"/>'
                )
            label = _LABELS[layout].replace("100", str(users)) + (
                ", p95" if key == "p95_ms" else ", p50"
            )
            lx = width - right + 14
            out.append(
                f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y}" y2="{legend_y}" '
                f'stroke="{colour}" stroke-width="2"{dash}/>'
            )
            out.append(f'<text x="{lx + 36}" y="{legend_y + 4}">{label}</text>')
            legend_y += 22
    floor = sorted((r for r in rows if r["layout"] == "one_user"), key=lambda r: r["n"])
    if floor:
        points = " ".join(
            f"{x(r['n']):.1f},{y(r['search']['floor_latency']['p50_ms']):.1f}" for r in floor
        )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="#777" stroke-width="2" '
            'stroke-dasharray="2 3"/>'
        )
        lx = width - right + 14
        out.append(
            f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y}" y2="{legend_y}" stroke="#777" '
            'stroke-width="2" stroke-dasharray="2 3"/>'
        )
        out.append(f'<text x="{lx + 36}" y="{legend_y + 4}">raw FTS5 query, p50</text>')
        legend_y += 22
    lx = width - right + 14
    out.append(
        f'<line x1="{lx}" x2="{lx + 30}" y1="{legend_y}" y2="{legend_y}" stroke="#c0392b" '
        'stroke-width="3"/>'
    )
    out.append(f'<text x="{lx + 36}" y="{legend_y + 4}">target (p95)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _log(value: float) -> float:
    return math.log10(value)
