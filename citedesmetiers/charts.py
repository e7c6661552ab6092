"""Charts as accessible SVG, drawn on the server (no JavaScript, print-ready, readable in black
and white): a title for screen readers, the figures beside each bar, patterns not only colour."""

from __future__ import annotations

from html import escape

INK = "#111827"
BAR = "#12355b"
GRID = "#d1d5db"


def bar_chart(rows: list[tuple[str, float]], title: str, width: int = 640, bar: int = 22) -> str:
    """Horizontal bars, one per (label, value), the value written at the end of each bar."""
    if not rows:
        return ""
    label_w, gap = 220, 6
    height = len(rows) * (bar + gap) + 10
    top = max(value for _, value in rows) or 1
    span = width - label_w - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, value) in enumerate(rows):
        y = 5 + index * (bar + gap)
        w = max(1, round(value / top * span)) if value else 0
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar * 0.7:.0f}" text-anchor="end" font-size="12" '
            f'fill="{INK}">{escape(str(label))[:34]}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" fill="{BAR}"/>'
            f'<text x="{label_w + w + 6}" y="{y + bar * 0.7:.0f}" font-size="12" '
            f'fill="{INK}">{_fmt(value)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    rows: list[tuple[str, float]], title: str, width: int = 680, height: int = 200
) -> str:
    """Vertical columns (e.g. visits per day), labels under every few columns."""
    if not rows:
        return ""
    bottom, left = 28, 30
    top = max(value for _, value in rows) or 1
    step = (width - left) / len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        f'stroke="{GRID}"/>',
        f'<text x="0" y="12" font-size="11" fill="{INK}">{_fmt(top)}</text>',
    ]
    every = max(1, len(rows) // 10)
    for index, (label, value) in enumerate(rows):
        h = round(value / top * (height - bottom - 16))
        x = left + index * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - bottom - h}" width="{max(1.0, step - 2):.1f}" '
            f'height="{h}" fill="{BAR}"><title>{escape(str(label))}: {_fmt(value)}</title></rect>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 10}" font-size="10" '
                f'text-anchor="middle" fill="{INK}">{escape(str(label))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def heat_map(
    grid: dict[tuple[int, int], int], rows: list[str], columns: list[int], title: str
) -> str:
    """Weekday × hour: darker is busier, and every cell carries its number (black-and-white)."""
    cell_w, cell_h, left, top_margin = 34, 22, 40, 18
    width = left + cell_w * len(columns)
    height = top_margin + cell_h * len(rows)
    peak = max(grid.values(), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for c, hour in enumerate(columns):
        parts.append(
            f'<text x="{left + c * cell_w + cell_w / 2}" y="12" font-size="10" '
            f'text-anchor="middle" fill="{INK}">{hour}h</text>'
        )
    for r, name in enumerate(rows):
        y = top_margin + r * cell_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="11" fill="{INK}">{escape(name)}</text>')
        for c, hour in enumerate(columns):
            value = grid.get((r, hour), 0)
            shade = round(245 - value / peak * 200)
            ink = "#ffffff" if shade < 130 else INK
            parts.append(
                f'<rect x="{left + c * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="rgb({shade},{shade},{min(255, shade + 10)})"/>'
                f'<text x="{left + c * cell_w + cell_w / 2 - 1}" y="{y + 14}" font-size="10" '
                f'text-anchor="middle" fill="{ink}">{value or ""}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value == int(value) else f"{value:.1f}"
