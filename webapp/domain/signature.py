"""Finger signatures as vector strokes: checked on arrival, drawn later as an SVG path."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

MAX_STROKES = 50
MAX_POINTS = 5_000
MAX_JSON_LENGTH = 200_000
MIN_SIDE, MAX_SIDE = 50, 4_000


class SignatureError(ValueError):
    """The signature data is not an acceptable drawing; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "format", "empty", "too_many_strokes", "too_many_points", "outside"


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    strokes: tuple[tuple[tuple[float, float], ...], ...]

    def as_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "strokes": [[list(point) for point in stroke] for stroke in self.strokes],
        }


def _refuse_constant(name: str):
    raise SignatureError("format")  # NaN and Infinity are not coordinates


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SignatureError("format")
    try:
        number = float(value)  # a 400-digit integer does not fit
    except OverflowError:
        raise SignatureError("format") from None
    if not math.isfinite(number):
        raise SignatureError("format")
    return number


def parse_drawing(text: str) -> Drawing:
    """Parse {"width", "height", "strokes": [[[x, y], ...], ...]} and enforce the limits."""
    if len(text) > MAX_JSON_LENGTH:
        raise SignatureError("too_many_points")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise SignatureError("format") from None
    if not isinstance(data, dict) or not isinstance(data.get("strokes"), list):
        raise SignatureError("format")
    width, height = _number(data.get("width")), _number(data.get("height"))
    if not all(MIN_SIDE <= side <= MAX_SIDE and side.is_integer() for side in (width, height)):
        raise SignatureError("format")
    raw_strokes = data["strokes"]
    if not raw_strokes:
        raise SignatureError("empty")
    if len(raw_strokes) > MAX_STROKES:
        raise SignatureError("too_many_strokes")
    if not all(isinstance(s, list) and s for s in raw_strokes):
        raise SignatureError("format")
    if sum(len(s) for s in raw_strokes) > MAX_POINTS:
        raise SignatureError("too_many_points")
    strokes = tuple(tuple(_point(p, width, height) for p in stroke) for stroke in raw_strokes)
    return Drawing(int(width), int(height), strokes)


def _point(raw, width: float, height: float) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise SignatureError("format")
    x, y = _number(raw[0]), _number(raw[1])
    if not (0 <= x <= width and 0 <= y <= height):
        raise SignatureError("outside")
    return round(x, 1), round(y, 1)


def svg_path(drawing: Drawing) -> str:
    """Return SVG path data: one move-then-lines run per stroke; a tap is a dot."""
    parts = []
    for stroke in drawing.strokes:
        (x0, y0), rest = stroke[0], stroke[1:]
        if not rest:
            rest = ((x0 + 0.1, y0),)  # a round line cap turns this into a visible dot
        parts.append(f"M{x0:g} {y0:g}" + "".join(f"L{x:g} {y:g}" for x, y in rest))
    return "".join(parts)


def drawing_from_dict(data: dict) -> Drawing:
    """Rebuild a stored drawing (already checked when it arrived)."""
    return Drawing(
        int(data["width"]),
        int(data["height"]),
        tuple(tuple((float(x), float(y)) for x, y in stroke) for stroke in data["strokes"]),
    )
