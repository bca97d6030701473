"""Small bar charts drawn on the server as SVG (no script, no library), for the desk's issue report."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 260, 120
TOP, BOTTOM = 16, 18  # room for the values above the bars and the labels below them
BAR, CURRENT = "#9fb3c8", "#0b2e4f"


def bars(title: str, labels: list[str], values: list[int], *, current: int | None = None) -> Markup:
    """Return an SVG bar chart of ``values`` (one bar per label), the bar at index ``current`` darker.

    Bars are scaled to the largest value; each carries its label and value as a tooltip and in text.
    """
    slot = WIDTH / max(len(values), 1)
    room = HEIGHT - TOP - BOTTOM
    top = max([*values, 1])
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = round(room * value / top, 1)
        x, y = round(i * slot + slot * 0.15, 1), round(TOP + room - height, 1)
        middle = round(i * slot + slot / 2, 1)
        parts.append(f'<rect x="{x}" y="{y}" width="{round(slot * 0.7, 1)}" height="{height}" '
                     f'fill="{CURRENT if i == current else BAR}"><title>{escape(label)}: {value}</title></rect>'
                     f'<text x="{middle}" y="{round(y - 3, 1)}" font-size="10" text-anchor="middle">{value}</text>'
                     f'<text x="{middle}" y="{HEIGHT - 4}" font-size="10" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
