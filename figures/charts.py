"""Charts as accessible SVG, drawn on the server (no JavaScript, print-ready, readable in black
and white): a title for screen readers, the figures beside each bar, patterns not only colour.

Charts are drawn at about the width they are shown at (a dashboard column at 1024 px, half an A4
page), so their text is never scaled below its font size: 13 px, readable on a tablet."""

from __future__ import annotations

import math
from html import escape

INK = "#111827"
BAR = "#12355b"
GRID = "#d1d5db"
FONT = 13
# An average character of the sans-serif fonts used, in ems: enough to know where a label wraps.
CHAR_EM = 0.6


def _lines(label: str, chars: int, most: int = 2) -> list[str]:
    """`label` on at most `most` lines of `chars` characters, cut between words; what does not fit
    ends with "…" (the full name is in the bar's title and in the table beside the chart)."""
    words, lines = label.split(), [""]
    for word in words:
        candidate = f"{lines[-1]} {word}".strip()
        if len(candidate) <= chars:
            lines[-1] = candidate
        else:
            lines.append(word)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: chars - 1].rstrip() + "…"
    return [line if len(line) <= chars else line[: chars - 1] + "…" for line in lines]


def bar_chart(rows: list[tuple[str, float]], title: str, width: int = 420, bar: int = 18) -> str:
    """Horizontal bars, one per (label, value): the label above its bar (on two lines when it is
    long), the value written at the end of the bar."""
    if not rows:
        return ""
    line_h, gap, value_w = FONT + 4, 10, 56
    chars = int((width - 4) / (FONT * CHAR_EM))
    labelled = [(_lines(str(label), chars), label, value) for label, value in rows]
    height = sum(len(lines) * line_h + bar + gap for lines, _, _ in labelled) + 4
    top = max(value for _, value in rows) or 1
    span = width - value_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    y = 2
    for lines, label, value in labelled:
        w = max(1, round(value / top * span)) if value else 0
        text = "".join(
            f'<tspan x="0" dy="{line_h if i else FONT}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        y_bar = y + len(lines) * line_h
        parts.append(
            f"<g><title>{escape(str(label))} — {_fmt(value)}</title>"
            f'<text x="0" y="{y}" font-size="{FONT}" fill="{INK}">{text}</text>'
            f'<rect x="0" y="{y_bar}" width="{w}" height="{bar}" fill="{BAR}"/>'
            f'<text x="{w + 6}" y="{y_bar + bar * 0.75:.0f}" font-size="{FONT}" '
            f'fill="{INK}">{_fmt(value)}</text></g>'
        )
        y = y_bar + bar + gap
    parts.append("</svg>")
    return "".join(parts)


def column_chart(
    rows: list[tuple[str, float]], title: str, width: int = 680, height: int = 200
) -> str:
    """Vertical columns (e.g. visits per day), labels under as many columns as have room."""
    if not rows:
        return ""
    bottom, left = FONT + 16, 36
    top = max(value for _, value in rows) or 1
    step = (width - left) / len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        f'stroke="{GRID}"/>',
        f'<text x="0" y="{FONT}" font-size="{FONT}" fill="{INK}">{_fmt(top)}</text>',
    ]
    widest = max(len(str(label)) for label, _ in rows) * FONT * CHAR_EM + 6
    every = max(1, math.ceil(widest / step))
    for index, (label, value) in enumerate(rows):
        h = round(value / top * (height - bottom - FONT - 6))
        x = left + index * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - bottom - h}" width="{max(1.0, step - 2):.1f}" '
            f'height="{h}" fill="{BAR}"><title>{escape(str(label))} — {_fmt(value)}</title></rect>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 8}" font-size="{FONT}" '
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
