"""Masking of personal data (身份证号, 手机号, 银行卡号) before anything is stored or logged."""

from __future__ import annotations

import re

# 18-digit resident ID (last char may be X), 15-digit legacy ID.
_ID_CARD = re.compile(r"(?<![0-9])([1-9]\d{5})(\d{8}|\d{6})(\d{3}[\dXx]|\d)(?![0-9Xx])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![0-9])")
_BANK_CARD = re.compile(r"(?<![0-9])(\d{4})((?:[ -]?\d){8,11})((?:[ -]?\d){4})(?![0-9])")


def _mask_id(m: re.Match[str]) -> str:
    return m.group(1)[:3] + "*" * (len(m.group(0)) - 7) + m.group(0)[-4:]


def _mask_mobile(m: re.Match[str]) -> str:
    return f"{m.group(1)}****{m.group(3)}"


def _mask_bank(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def mask_pii(text: str) -> str:
    """Return ``text`` with ID card, mobile and bank card numbers masked.

    The order matters: ID numbers (18 digits) are masked before bank cards (12–19 digits) so an ID is
    never half-masked as a card.
    """
    text = _ID_CARD.sub(_mask_id, text)
    text = _MOBILE.sub(_mask_mobile, text)
    return _BANK_CARD.sub(_mask_bank, text)


def mask_phone(phone: str) -> str:
    """A callback number as shown in views: the first 3 and last 4 digits (e.g. ``138****5678``)."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_data(value: object) -> object:
    """``mask_pii`` applied to every string inside lists and dicts (JSON-like data)."""
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    return value
