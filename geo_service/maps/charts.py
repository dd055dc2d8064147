"""Server-side SVG charts for the pages: stacked bars drawn as plain SVG text, no JavaScript.

The pages run under a strict CSP and must print and work offline, so a chart is a ``<svg>``
string built here and inlined in the template: no script, no event handler, no ``style``
attribute (colours are SVG presentation attributes, which the CSP does not govern). Every
text (title, axis labels, category and legend names) is XML-escaped here, so a unit named
``<script>`` stays text. Texts arrive already translated: this module knows no language.

Geometry: bars are horizontal-axis categories, each bar a stack of series; a bar's height
is proportional to its total against the largest total (``value / max_total * plot_h``), and
the y axis carries 0, the middle and the maximum. Colours come from ``STATUS_COLOURS`` /
``BAR_COLOUR``; text is always the dark ``TEXT_COLOUR`` on white (contrast 15.4:1), never
drawn on a bar, so the bar colours need no text contrast; the legend repeats each colour
beside its name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

#: Incident status -> bar colour (distinct for colour-blind readers: orange, blue, green, grey).
STATUS_COLOURS: dict[str, str] = {
    "belum_ditangani": "#d55e00",
    "dalam_proses": "#0072b2",
    "selesai": "#009e73",
    "dibatalkan": "#8c8c8c",
}
BAR_COLOUR = "#0072b2"
#: Text colour on the white chart background: #1f2933 on #ffffff is 15.4:1 (WCAG AA needs 4.5:1).
TEXT_COLOUR = "#1f2933"
AXIS_COLOUR = "#52606d"


@dataclass(frozen=True)
class Series:
    """One stacked layer: its key in the values, its legend text and its colour."""

    key: str
    label: str
    colour: str


def render_bar_chart(
    *,
    chart_id: str,
    title: str,
    categories: Sequence[tuple[str, str]],
    series: Sequence[Series],
    values: Mapping[str, Mapping[str, int]],
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 280,
) -> str:
    """An SVG stacked bar chart: one bar per ``(key, label)`` category, one layer per series.

    ``values[category_key][series_key]`` is a count (missing = 0). Returns the ``<svg>`` element
    with a ``<title>``, axis labels and a legend; each bar segment carries ``data-category``,
    ``data-series`` and ``data-value`` so tests and readers can check it.
    """
    left, right, top = 48, 12, 34
    legend_h = 22 if len(series) > 1 else 0
    plot_w = max(1, width - left - right)
    slot = plot_w / max(1, len(categories))
    # Long names (units) are tilted when they would not fit under their bar (~6 px a character).
    names = [label if len(label) <= 22 else label[:21] + "…" for _, label in categories]
    tilt = any(len(name) * 6 > slot for name in names)
    longest = min(22, max((len(n) for n in names), default=0)) * 6
    label_h = int(longest * 0.57) + 8 if tilt else 0  # sin 35°: how far a tilted name reaches down
    if tilt:  # ... and cos 35° to the left of the first bar: widen the left margin so it is not cut
        left += int(max(0.0, longest * 0.82 - slot / 2 - left + 20))
        plot_w = max(1, width - left - right)
        slot = plot_w / max(1, len(categories))
    height += label_h
    bottom = 58 + legend_h + label_h
    plot_h = max(1, height - top - bottom)
    totals = [sum(int(values.get(key, {}).get(s.key, 0)) for s in series) for key, _ in categories]
    top_value = max(totals, default=0)
    scale = plot_h / top_value if top_value else 0.0
    bar_w = max(2.0, min(48.0, slot * 0.6))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id={quoteattr(chart_id)} role="img" '
        f'aria-labelledby={quoteattr(chart_id + "-title")} viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f"<title id={quoteattr(chart_id + '-title')}>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold" fill="{TEXT_COLOUR}">{escape(title)}</text>',
    ]
    base_y = top + plot_h
    for tick in sorted({0, top_value // 2, top_value}):
        y = base_y - tick * scale
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e4e7eb"/>')
        out.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT_COLOUR}">{tick}</text>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base_y}" stroke="{AXIS_COLOUR}"/>')
    out.append(f'<line x1="{left}" y1="{base_y}" x2="{left + plot_w}" y2="{base_y}" stroke="{AXIS_COLOUR}"/>')
    for i, ((key, label), total) in enumerate(zip(categories, totals, strict=True)):
        x = left + slot * i + (slot - bar_w) / 2
        y = float(base_y)
        out.append(f'<g class="bar" data-category={quoteattr(key)} data-total="{total}">')
        for s in series:
            value = int(values.get(key, {}).get(s.key, 0))
            if value <= 0:
                continue
            h = value * scale
            y -= h
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.2f}" fill="{s.colour}" '
                       f'data-series={quoteattr(s.key)} data-value="{value}">'
                       f"<title>{escape(label)} · {escape(s.label)}: {value}</title></rect>")
        if total:
            out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                       f'fill="{TEXT_COLOUR}">{total}</text>')
        cx = x + bar_w / 2
        turn = f' transform="rotate(-35 {cx:.1f} {base_y + 14})"' if tilt else ""
        out.append(f'<text x="{cx:.1f}" y="{base_y + 14}" text-anchor="{"end" if tilt else "middle"}"{turn} '
                   f'fill="{TEXT_COLOUR}" class="category-label">{escape(names[i])}</text>')
        out.append("</g>")
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{base_y + 32 + label_h}" text-anchor="middle" '
               f'fill="{TEXT_COLOUR}" class="x-label">{escape(x_label)}</text>')
    out.append(f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="{TEXT_COLOUR}" '
               f'transform="rotate(-90 12 {top + plot_h / 2:.1f})" class="y-label">{escape(y_label)}</text>')
    if legend_h:
        out.append('<g class="legend">')
        x = float(left)
        ly = height - 10
        for s in series:
            out.append(f'<rect x="{x:.1f}" y="{ly - 9}" width="10" height="10" fill="{s.colour}"/>')
            out.append(f'<text x="{x + 14:.1f}" y="{ly}" fill="{TEXT_COLOUR}">{escape(s.label)}</text>')
            x += 24 + 6.5 * len(s.label)
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def status_series(status_labels: Mapping[str, str]) -> list[Series]:
    """The four incident statuses as stacked layers, in workflow order, with their page words."""
    return [Series(code, status_labels.get(code, code), colour) for code, colour in STATUS_COLOURS.items()]


__all__ = ["BAR_COLOUR", "STATUS_COLOURS", "Series", "render_bar_chart", "status_series"]
