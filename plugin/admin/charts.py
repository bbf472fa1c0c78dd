"""Small charts drawn on the server as inline SVG: no chart library, no CDN, nothing to load.

Each function takes plain figures and returns ``Markup`` (every text in it escaped). Colours
follow Polaris' data-visualisation palette closely enough to sit in the Shopify admin.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

SERIES_COLOURS = {"issued": "#29845a", "redeemed": "#2c6ecb", "expired": "#b98900"}
INK, GRID, SUBDUED = "#303030", "#e3e3e3", "#616161"


def _nice_ceiling(value: float) -> int:
    """The next "round" number at or above ``value`` (1, 2, 5 × 10^n), for the axis."""
    if value <= 0:
        return 10
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _label(n: float) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 1000:
        return f"{n / 1000:g}k"
    return f"{n:g}"


def weekly_bars(weeks: Sequence[dict[str, object]], series: Sequence[str], title: str) -> Markup:
    """Grouped bars: one group per week, one bar per series (points issued, redeemed…)."""
    width, height = 720, 260
    left, right, top, bottom = 48, 12, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((int(str(w[s])) for w in weeks for s in series), default=0)
    ceiling = _nice_ceiling(peak)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = ceiling * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{SUBDUED}">{_label(value)}</text>'
        )
    count = max(len(weeks), 1)
    group_w = plot_w / count
    bar_w = min(22.0, group_w * 0.8 / max(len(series), 1))
    label_every = max(1, round(count / 12))
    for index, week in enumerate(weeks):
        x0 = left + group_w * index + (group_w - bar_w * len(series)) / 2
        for n, name in enumerate(series):
            value = int(str(week[name]))
            h = plot_h * value / ceiling if ceiling else 0
            parts.append(
                f'<rect x="{x0 + n * bar_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w - 2:.1f}" height="{h:.1f}" rx="2" '
                f'fill="{SERIES_COLOURS.get(name, INK)}">'
                f"<title>Points {escape(name)} in the week of {escape(str(week['week']))}: "
                f"{value:,}</title></rect>"
            )
        if index % label_every == 0:
            monday = date.fromisoformat(str(week["week"]))
            parts.append(
                f'<text x="{left + group_w * (index + 0.5):.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle" font-size="11" fill="{SUBDUED}">'
                f"{monday.strftime('%b')} {monday.day}</text>"
            )
    legend_x = left
    for name in series:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 14}" width="10" height="10" rx="2" '
            f'fill="{SERIES_COLOURS.get(name, INK)}"/>'
            f'<text x="{legend_x + 14}" y="{height - 5}" font-size="12" fill="{INK}">'
            f"Points {escape(name)}</text>"
        )
        legend_x += 130
    parts.append("</svg>")
    return Markup("".join(parts))


def paired_bars(
    rows: Sequence[tuple[str, Decimal | None, Decimal | None, str]], title: str
) -> Markup:
    """Members against non-members, one pair of horizontal bars per figure.

    ``rows``: (figure's name, members' value, non-members' value, how to print a value: a
    format such as ``"{:,.2f}"`` or ``"%"`` for a share).
    """
    width, row_h, left = 720, 58, 170
    height = row_h * len(rows) + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (name, members, others, style) in enumerate(rows):
        y = 8 + index * row_h
        peak = max(members or 0, others or 0) or Decimal(1)
        parts.append(f'<text x="0" y="{y + 22}" font-size="13" fill="{INK}">{escape(name)}</text>')
        for n, (who, value, colour) in enumerate(
            (("Members", members, "#29845a"), ("Non-members", others, "#8a8a8a"))
        ):
            bar_y = y + 4 + n * 22
            share = float((value or 0) / peak)
            bar_w = (width - left - 110) * share
            text = "—" if value is None else _format(value, style)
            parts.append(
                f'<rect x="{left}" y="{bar_y}" width="{bar_w:.1f}" height="16" rx="3" '
                f'fill="{colour}"><title>{who}: {escape(text)}</title></rect>'
                f'<text x="{left + bar_w + 6:.1f}" y="{bar_y + 13}" font-size="12" '
                f'fill="{INK}">{escape(text)} <tspan fill="{SUBDUED}">{who.lower()}</tspan>'
                "</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _format(value: Decimal, style: str) -> str:
    if style == "%":
        return f"{value * 100:.1f} %"
    return style.format(value)


def share_bar(parts: Sequence[tuple[str, int, str]], title: str) -> Markup:
    """One horizontal bar per part (e.g. members per tier), with its count and share."""
    width, row_h, left = 360, 30, 90
    height = row_h * len(parts) + 6
    total = sum(n for _, n, _ in parts)
    peak = max((n for _, n, _ in parts), default=0) or 1
    svg = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (name, n, colour) in enumerate(parts):
        y = 4 + index * row_h
        bar_w = (width - left - 90) * n / peak
        share = f"{100 * n / total:.0f} %" if total else "—"
        svg.append(
            f'<text x="0" y="{y + 16}" font-size="13" fill="{INK}">{escape(name)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(bar_w, 1):.1f}" height="18" rx="3" '
            f'fill="{colour}"><title>{escape(name)}: {n:,}</title></rect>'
            f'<text x="{left + bar_w + 6:.1f}" y="{y + 16}" font-size="13" fill="{INK}">'
            f'{n:,} <tspan fill="{SUBDUED}">({share})</tspan></text>'
        )
    svg.append("</svg>")
    return Markup("".join(svg))
