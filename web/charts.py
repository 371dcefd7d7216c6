"""The dashboard's pictures as geometry for SVG templates: commune maps, the quarterly trend and bar pairs.

Drawn on the server, without JavaScript or a tile server: a closed government network shows them, and a
test reads their numbers from the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

UNCOVERED, COVERED, FULL = "uncovered", "covered", "full"


def commune_state(row: dict) -> str:
    """How a commune's figures colour it: no team, a team, or a team in every hamlet."""
    return state_of(row["covered"], row["fully_covered"])


def state_of(covered: bool, fully_covered: bool) -> str:
    if fully_covered:
        return FULL
    return COVERED if covered else UNCOVERED


@dataclass(frozen=True)
class MapPicture:
    width: int
    height: int
    radius: float
    circles: str  # the points as SVG circles, escaped: a template loop over 3,321 points costs ~0.5 s
    counts: dict[str, int]
    unplaced: int
    points: int


def commune_map(
    states: dict[str, str], places: dict[str, tuple[str, float, float]], *, width: int, radius: float
) -> MapPicture:
    """Communes as points at their dataset coordinates (equirectangular, scaled to `width`).

    `states` is code -> commune_state for every commune in scope; `places` is code -> (name, latitude,
    longitude), the coordinates None where the dataset gives none. `unplaced` counts communes not drawn.
    """
    counts = {UNCOVERED: 0, COVERED: 0, FULL: 0}
    for state in states.values():
        counts[state] += 1
    located = [(code, places[code]) for code in states if code in places and places[code][1] is not None]
    if not located:
        return MapPicture(width, 0, radius, "", counts, len(states), 0)
    lats = [lat for _, (_, lat, _) in located]
    lons = [lon for _, (_, _, lon) in located]
    squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))  # a degree of longitude is shorter
    span_x = max((max(lons) - min(lons)) * squeeze, 0.01)
    span_y = max(max(lats) - min(lats), 0.01)
    margin = radius * 2
    scale = (width - 2 * margin) / span_x
    height = round(span_y * scale + 2 * margin)
    if height > width * 2:  # a long thin province: fit the height instead
        scale = (width * 2 - 2 * margin) / span_y
        height = width * 2
    west, north = min(lons), max(lats)
    # Uncovered communes drawn last, on top: they are what the reader looks for.
    order = {FULL: 0, COVERED: 1, UNCOVERED: 2}
    located.sort(key=lambda item: (order[states[item[0]]], item[0]))
    circles = "".join(
        f'<circle class="pt {states[code]}" cx="{margin + (lon - west) * squeeze * scale:.1f}" '
        f'cy="{margin + (north - lat) * scale:.1f}" r="{radius}" data-code="{escape(code)}">'
        f"<title>{escape(code)} {escape(name)}</title></circle>"
        for code, (name, lat, lon) in located
    )
    # Safe: every value in it is a number we formatted or a text escaped above.
    return MapPicture(width, height, radius, mark_safe(circles), counts, len(states) - len(located), len(located))


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: str  # an SVG polyline's "x,y x,y"
    dots: list[tuple[float, float, str]]  # x, y, the value's label


@dataclass(frozen=True)
class TrendPicture:
    width: int
    height: int
    labels: list[tuple[float, str]]  # x, quarter
    series: list[Series]
    grid: list[tuple[float, str]]  # y, percent


def trend(quarters: list[dict], lines: list[tuple[str, str, str]], *, width: int = 640, height: int = 220):
    """Ratios (0..1) over quarters as lines on a 0–100 % scale. `lines` is (figure name, label, css class)."""
    left, right, top, bottom = 44, 40, 12, 28
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(len(quarters) - 1, 1)

    def x_of(i: int) -> float:
        return round(left + (i * step if len(quarters) > 1 else inner_w / 2), 1)

    def y_of(ratio: float) -> float:
        return round(top + inner_h * (1 - max(0.0, min(1.0, ratio))), 1)

    series = []
    for figure, label, css in lines:
        dots = [(x_of(i), y_of(q[figure]), f"{q[figure] * 100:.1f}") for i, q in enumerate(quarters)]
        series.append(Series(label, css, " ".join(f"{x},{y}" for x, y, _ in dots), dots))
    grid = [(y_of(v / 100), f"{v}%") for v in (0, 25, 50, 75, 100)]
    return TrendPicture(width, height, [(x_of(i), q["quarter"]) for i, q in enumerate(quarters)], series, grid)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | None
    length: float  # 0..1 of the longest


def bar_pairs(items: list[tuple[str, int, int | None]]) -> list[tuple[str, Bar, Bar]]:
    """(label, this, before) pairs scaled to the largest value of all; a `before` of None (not known) stays
    None, drawn as nothing."""
    top = max([max(a, b or 0) for _, a, b in items] + [1])
    return [(label, Bar(label, a, a / top), Bar(label, b, (b or 0) / top)) for label, a, b in items]
