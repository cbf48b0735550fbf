"""What a score's value (and an indicator's range) may be: how it is read, and what fits.

Scores and indicator ranges are stored as decimals of at most 15 digits, 4 of them after the
point. SQLite keeps a decimal as a double, which holds 15 significant digits exactly, so a
value that fits comes back from either database as it was written; one that does not fit
would come back altered, or not at all. Every path that writes a value (the entry form, the
admin, ``import_scores``, the score writer itself) asks ``value_problem`` and says the same.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

VALUE_MAX_DIGITS = 15
VALUE_DECIMAL_PLACES = 4
VALUE_WHOLE_DIGITS = VALUE_MAX_DIGITS - VALUE_DECIMAL_PLACES
VALUE_QUANTUM = Decimal(1).scaleb(-VALUE_DECIMAL_PLACES)
# The largest value the column holds: 99,999,999,999.9999.
VALUE_LARGEST = Decimal(10) ** VALUE_WHOLE_DIGITS - VALUE_QUANTUM

NOT_A_NUMBER = _("Enter a number.")
DOES_NOT_FIT = _(
    "Enter at most 11 digits before the decimal point and 4 after it "
    "(the largest value is 99999999999.9999)."
)
# A number as typed: optional sign, digits with one optional point, an optional exponent
# (spreadsheets write 1e-05). No commas, spaces or other separators: "1,0" is ambiguous.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def value_from_text(text: object) -> Decimal:
    """The number ``text`` spells, or ValueError.

    Full-width digits, point, signs and exponent (as a Chinese input method types them) read
    as their ASCII forms; any comma, full-width or not, is refused rather than guessed at.
    A spreadsheet's float is read as the shortest decimal that spells it.
    """
    if isinstance(text, bool):
        raise ValueError(text)
    if isinstance(text, int):
        return Decimal(text)
    if isinstance(text, float):
        text = repr(text)
    normalised = unicodedata.normalize("NFKC", str(text)).strip()
    if not _NUMBER.fullmatch(normalised):
        raise ValueError(text)
    try:
        return Decimal(normalised)
    except InvalidOperation:
        raise ValueError(text) from None


def value_problem(value: Decimal) -> str | None:
    """Why the value column cannot hold ``value`` exactly, or None when it can.

    Trailing zeros after the point do not count (7.50000 is 7.5); NaN and infinities are
    not numbers.
    """
    if not value.is_finite():
        return str(NOT_A_NUMBER)
    if value.is_zero():
        return None
    _sign, digits, exponent = value.normalize().as_tuple()
    decimals = max(0, -exponent)
    whole = max(0, len(digits) + exponent)
    if decimals > VALUE_DECIMAL_PLACES or whole > VALUE_WHOLE_DIGITS:
        return str(DOES_NOT_FIT)
    return None


def validate_value_fits(value: Decimal | None) -> None:
    """A validator: raise ValidationError with ``value_problem``'s message."""
    if value is None:
        return
    problem = value_problem(value)
    if problem:
        raise ValidationError(problem, code="value_does_not_fit")


def stored_value_fits(raw: object) -> bool:
    """Whether a value read raw from the database (text or number) can be read back.

    Django reads a SQLite decimal through a double rounded to 15 significant digits and then
    to 4 places; what needs more than 15 digits after that raises InvalidOperation.
    """
    if raw is None:
        return True
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return False
    if not value.is_finite() or value.copy_abs() >= Decimal(10) ** VALUE_WHOLE_DIGITS:
        return False
    return value.quantize(VALUE_QUANTUM).copy_abs() <= VALUE_LARGEST
