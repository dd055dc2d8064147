"""CSV cells no spreadsheet reads as a formula (CSV/formula injection), for every export.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with
``'`` (OWASP's advice), except a plain number (``-8.35``, ``+62``), which a spreadsheet reads as the
number it is: coordinates and phone numbers stay usable.

>>> csv_safe("=HYPERLINK(\\"http://x\\")"), csv_safe("-8.35"), csv_safe("-8.35, 115.2"), csv_safe(-8.35)
('\\'=HYPERLINK("http://x")', '-8.35', "'-8.35, 115.2", -8.35)
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?"
PLAIN_NUMBER = re.compile(_PLAIN_NUMBER)


def csv_safe(value: Any) -> Any:
    """One cell: a text that would start a formula gets a leading ``'``; anything else is unchanged."""
    if isinstance(value, str) and value[:1] in FORMULA_START and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column of ``frame`` made :func:`csv_safe`, column-wise (one regex pass per column).

    >>> csv_safe_frame(pd.DataFrame({"text": ["=1+1", "-8.35", "Desa X"]}))["text"].tolist()
    ["'=1+1", '-8.35', 'Desa X']
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype != object and not pd.api.types.is_string_dtype(s):
            continue
        text = s.astype(str)
        risky = text.str.match(r"[=+\-@\t\r]") & ~text.str.fullmatch(_PLAIN_NUMBER)
        if risky.any():
            out[col] = s.where(~risky, "'" + text)
    return out
