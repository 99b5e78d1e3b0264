"""Masking of personal data before anything is stored, logged or sent to Rasa.

What is masked: resident ID numbers (18 digits, last may be X; old 15-digit ones), mobile numbers
(plain, spaced, dashed, ``+86``/``0086``), landlines with an area code (``0730-8123456``,
``(0730)8123456``), bank card numbers (16–19 digits, or 12–15 passing the Luhn check), any other run of
11 or more digits, and e-mail addresses. Citizens type these in many forms, so matching runs on a copy of
the text where full-width characters (``１３８…``, ``＋``, ``－``, ``＠``) and dash variants are mapped
one-to-one onto ASCII; the masked spans are then cut out of the original, so everything else the
citizen wrote stays as typed.

``keep`` holds numbers and addresses never masked: the bureau's own published contacts (the hotline,
the phone numbers in published entries), see ``contacts_in``. Only citizens' input is masked; what the
bureau says (bot answers, agents) is stored as said.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SPACES = "\u00a0\u2002\u2003\u2009\u3000"
_TABLE = {**{0xFF01 + i: 0x21 + i for i in range(94)}, **{ord(c): ord("-") for c in _DASHES}}
_TABLE.update({ord(c): ord(" ") for c in _SPACES})


def normalise(text: str) -> str:
    """Full-width ASCII, dash and space variants → ASCII, one character for one (same length)."""
    return text.translate(_TABLE)


_SEP = r"[ \-.]?"
# A run of digits with single separators, an optional country prefix and an optional final X.
_DIGITS = re.compile(
    r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[ \-]?)?\(?\d(?:\)?" + _SEP + r"\d){4,22}(?:[Xx](?![A-Za-z]))?(?![0-9])"
)
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _plausible_old_id(digits: str) -> bool:
    month, day = int(digits[8:10]), int(digits[10:12])
    return digits[0] != "0" and 1 <= month <= 12 and 1 <= day <= 31


def _mask_run(run: str) -> str | None:
    """The masked form of a digit run, or None when it is not personal data."""
    x = run[-1] in "Xx"
    digits = re.sub(r"\D", "", run)
    if re.match(r"^(?:\+|00)?86", run.lstrip("(")) and len(digits) >= 13 and _MOBILE.match(digits[-11:]):
        digits = digits[-11:]  # +86 mobile
    n = len(digits) + x
    if x and n == 18:
        return digits[:3] + "*" * 11 + digits[-3:] + run[-1].upper()
    if n == 18 or (n == 15 and _plausible_old_id(digits)):
        return digits[:3] + "*" * (n - 7) + digits[-4:]
    if _MOBILE.match(digits):
        return f"{digits[:3]}****{digits[-4:]}"
    if _LANDLINE.match(digits):
        area = 3 if digits[1] in "12" else 4  # 010, 02x; else 0xxx
        return digits[:area] + "-" + "*" * (len(digits) - area - 2) + digits[-2:]
    if 16 <= n <= 19 or (12 <= n <= 15 and _luhn(digits)):
        return digits[:4] + "*" * (n - 8) + digits[-4:]
    if n >= 11:
        return digits[:2] + "*" * (n - 4) + digits[-2:]
    return None


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_pii(text: str, keep: Collection[str] = ()) -> str:
    """``text`` with personal numbers and e-mail addresses masked (``keep``: never masked, as digits
    or addresses)."""
    norm = normalise(text)
    spans: list[tuple[int, int, str]] = []
    for m in _EMAIL.finditer(norm):
        if m.group(0).lower() not in keep:
            spans.append((m.start(), m.end(), _mask_email(m.group(0))))
    for m in _DIGITS.finditer(norm):
        if any(s <= m.start() < e for s, e, _ in spans):
            continue
        run = m.group(0)
        if re.sub(r"\D", "", run) in keep:
            continue
        masked = _mask_run(run)
        if masked is not None:
            spans.append((m.start(), m.end(), masked))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[:start] + masked + text[end:]
    return text


def contacts_in(texts: Iterable[str]) -> frozenset[str]:
    """Phone numbers (as digits) and e-mail addresses published in ``texts``: the ``keep`` of
    ``mask_pii`` for the bureau's own contacts."""
    found: set[str] = set()
    for text in texts:
        norm = normalise(text)
        found |= {m.group(0).lower() for m in _EMAIL.finditer(norm)}
        found |= {d for m in _DIGITS.finditer(norm) if len(d := re.sub(r"\D", "", m.group(0))) >= 5}
    return frozenset(found)


def mask_phone(phone: str) -> str:
    """A callback number as shown in views: the first 3 and last 4 digits (e.g. ``138****5678``)."""
    digits = "".join(c for c in normalise(phone) if c.isdigit())
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_data(value: object, keep: Collection[str] = ()) -> object:
    """``mask_pii`` applied to every string inside lists and dicts (JSON-like data)."""
    if isinstance(value, str):
        return mask_pii(value, keep)
    if isinstance(value, list):
        return [mask_data(v, keep) for v in value]
    if isinstance(value, dict):
        return {k: mask_data(v, keep) for k, v in value.items()}
    return value
