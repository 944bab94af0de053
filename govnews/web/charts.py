"""Charts as inline SVG generated on the server: no JavaScript, no CDN, works in a static file."""
from __future__ import annotations

from html import escape

__all__ = ["CHART_HEIGHT", "CHART_WIDTH", "daily_bars"]

CHART_WIDTH = 720
CHART_HEIGHT = 120
_PAD_LEFT, _PAD_BOTTOM, _PAD_TOP = 34, 18, 8


def daily_bars(days: list[str], series: list[tuple[str, list[int], str]], *, title: str,
               width: int = CHART_WIDTH, height: int = CHART_HEIGHT) -> str:
    """Grouped bars, one slot per day: ``series`` = ``[(label, values, colour), ...]``, values
    aligned with ``days``. Returns an ``<svg>`` element (text; every label escaped)."""
    n = max(1, len(days))
    top = max([1] + [v for _, values, _ in series for v in values])
    plot_w = width - _PAD_LEFT - 4
    plot_h = height - _PAD_BOTTOM - _PAD_TOP
    slot = plot_w / n
    bar = max(1.0, slot / max(1, len(series)) - 0.5)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    base_y = _PAD_TOP + plot_h
    for frac in (0.5, 1.0):
        y = base_y - plot_h * frac
        out.append(f'<line x1="{_PAD_LEFT}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{_PAD_LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
                   f'fill="#666">{round(top * frac)}</text>')
    for i, day in enumerate(days):
        for j, (label, values, colour) in enumerate(series):
            v = values[i] if i < len(values) else 0
            if not v:
                continue
            h = max(1.0, plot_h * v / top)
            x = _PAD_LEFT + i * slot + j * bar
            out.append(f'<rect class="bar" x="{x:.1f}" y="{base_y - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                       f'fill="{colour}"><title>{escape(day)} {escape(label)}: {v}</title></rect>')
    out.append(f'<line x1="{_PAD_LEFT}" y1="{base_y}" x2="{width - 4}" y2="{base_y}" stroke="#999"/>')
    if days:
        out.append(f'<text x="{_PAD_LEFT}" y="{height - 4}" font-size="10" fill="#666">{escape(days[0])}</text>')
        out.append(f'<text x="{width - 4}" y="{height - 4}" font-size="10" text-anchor="end" '
                   f'fill="#666">{escape(days[-1])}</text>')
    legend_x = _PAD_LEFT + 90
    for label, _values, colour in series:
        out.append(f'<rect x="{legend_x}" y="{height - 12}" width="9" height="9" fill="{colour}"/>')
        out.append(f'<text x="{legend_x + 12}" y="{height - 4}" font-size="10" fill="#333">{escape(label)}</text>')
        legend_x += 14 + 7 * len(label)
    out.append("</svg>")
    return "".join(out)
