"""Steering phrases as users type them: "+warm acoustic guitar:0.8", "-vocals:0.5", "piano" (weight 1)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_WEIGHT = 1.0


class SteerError(ValueError):
    """A phrase that cannot be read; the message shows the expected shape."""


@dataclass(frozen=True)
class Phrase:
    text: str
    weight: float  # signed: positive attracts, negative repels

    def to_list(self) -> list[object]:
        return [self.text, self.weight]


def parse_phrase(spec: str) -> Phrase:
    """`[+|-]text[:weight]`; the sign of the prefix and of the weight multiply."""
    raw = spec.strip()
    sign = 1.0
    if raw[:1] in "+-":
        sign = -1.0 if raw[0] == "-" else 1.0
        raw = raw[1:].strip()
    weight = 1.0
    text, sep, tail = raw.rpartition(":")
    if sep:
        try:
            weight = float(tail)
        except ValueError:
            text = raw  # a colon inside the phrase, no weight
    else:
        text = raw
    text = text.strip()
    if not text:
        raise SteerError(f"empty steering phrase in {spec!r}; write e.g. \"+warm acoustic guitar:0.8\"")
    if abs(weight) > MAX_WEIGHT:
        raise SteerError(f"weight {weight:g} in {spec!r} is outside −1…+1")
    return Phrase(text, sign * weight)


def phrases_from(items: list) -> list[Phrase]:
    """Phrases from CLI strings or [text, weight] pairs (the protocol form)."""
    out = []
    for item in items or []:
        if isinstance(item, str):
            out.append(parse_phrase(item))
        else:
            text, weight = item
            if abs(float(weight)) > MAX_WEIGHT:
                raise SteerError(f"weight {weight} for {text!r} is outside −1…+1")
            out.append(Phrase(str(text), float(weight)))
    return out
