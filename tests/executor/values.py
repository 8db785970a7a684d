"""Field values as a search sees them, and the number rules shared by eval, search, stats and sort.

A result row is a dict from field name to `str` (one value) or `list[str]` (a multivalue field);
an absent field is an absent key. Eval works on typed values (None, str, int, float, bool, lists)
and writes them back as text (`to_field`).

Numbers: a field value is numeric when the whole text is a decimal number (sign, digits, point,
exponent), as Splunk's eval and where treat field values that look like numbers
(https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/eval, "Numbers
and strings"). Integral results are written without a fraction; other floats in Python's shortest
round-trip form (Splunk's own float printing is not documented; see README).
"""

from __future__ import annotations

import math
import re
from typing import Any, Union

from .errors import SplError

FieldValue = Union[str, list]  # str or list[str]
Row = dict  # dict[str, FieldValue]

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def to_number(value: Any) -> int | float | None:
    """The number a single value stands for, or None (non-numeric text, null, multivalue, bool)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text or _NUMBER.fullmatch(text) is None:
            return None
        if "." in text or "e" in text or "E" in text:
            number = float(text)
            return number if math.isfinite(number) else None
        return int(text)
    return None


def is_number_text(text: str) -> bool:
    return _NUMBER.fullmatch(text.strip()) is not None if text else False


def format_number(number: int | float) -> str:
    if isinstance(number, bool):
        raise SplError("a boolean is not a number")
    if isinstance(number, int):
        return str(number)
    if math.isnan(number) or math.isinf(number):
        return "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")
    if number.is_integer() and abs(number) < 1e16:
        return str(int(number))
    return repr(number)


def to_text(value: Any) -> str | None:
    """A single eval value as field text (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        # https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/eval:
        # a field cannot hold a Boolean.
        raise SplError(
            "Fields cannot be assigned a boolean result. Instead, try if([bool expr], [expr], [expr])."
        )
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, str):
        return value
    raise SplError(f"cannot write {type(value).__name__} to a field")


def to_field(value: Any) -> FieldValue | None:
    """An eval result as a field value: None (remove the field), text, or a list of texts."""
    if isinstance(value, list):
        texts = [t for t in (to_text(v) for v in value) if t is not None]
        if not texts:
            return None
        return texts[0] if len(texts) == 1 else texts
    return to_text(value)


def values_of(value: FieldValue | None) -> list[str]:
    """Every value of a field (none when absent)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def single(values: list[str]) -> FieldValue | None:
    if not values:
        return None
    return values[0] if len(values) == 1 else list(values)


# ------------------------------------------------------------------------ ordering


def auto_key(text: str) -> tuple[int, Any]:
    """The `sort` command's automatic ordering: numbers numerically and before text, text
    lexicographically by code point (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/sort,
    "Sort field options"; Search Manual, "Lexicographical order": UTF-8 order, uppercase first)."""
    number = to_number(text)
    if number is not None:
        return (0, number)
    return (1, text)


def compare_values(left: Any, right: Any) -> int | None:
    """Eval/where comparison: numerically when both are numbers, else as text (code point order).
    None when either side is null."""
    if left is None or right is None:
        return None
    a, b = to_number(left), to_number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    a_text = left if isinstance(left, str) else to_text(left)
    b_text = right if isinstance(right, str) else to_text(right)
    assert a_text is not None and b_text is not None
    return (a_text > b_text) - (a_text < b_text)
