"""Amounts: parsed from the text a person wrote straight into `Decimal`, printed as the forms print them.

Floats never touch an amount. Printed figures are rounded line by line (元 to 万元), so a printed total may
differ from the sum of its printed parts: if a total and its n parts were each rounded to the last printed
digit, |total − Σparts| ≤ half-unit × (n + 1) (DOMAIN.md §3). Inside that bound a difference is rounding.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

# A spreadsheet prints #### when its column is too narrow: the value exists but is unknown (DOMAIN.md §4).
UNKNOWN_MARK = re.compile(r"^#{2,}$")
WITHHELD = "有关内容涉密"

# A province's whole budget is some 10^13 元: 15 whole digits is room enough, and keeps every sum and rounding
# within Decimal's 28 digits.
MAX_WHOLE_DIGITS = 15
MAX_FRACTION_DIGITS = 6

_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


class AmountError(ValueError):
    """The text is not an amount; the message says why, in Chinese."""


def normalise_digits(text: str) -> str:
    # Full-width digits, commas and points (“１，２３４．５６”) are what some input methods produce. ASCII text
    # (nearly every amount) is its own NFKC.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return text.strip().replace(" ", "")


def parse_decimal(text: str) -> Decimal:
    """`4,272.71`, `0.00`, `-3`, `１２３．４` → Decimal, keeping the written precision."""
    s = normalise_digits(text)
    if not _NUMBER.match(s):
        if re.match(r"^[+-]?[\d,]+(\.\d+)?$", s):
            raise AmountError(f"“{text}”的千分位逗号位置不对（应每三位一个，如 4,272.71）")
        raise AmountError(f"“{text}”不是金额")
    digits = s.lstrip("+-").replace(",", "")
    whole, _, fraction = digits.partition(".")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS or len(fraction) > MAX_FRACTION_DIGITS:
        raise AmountError(
            f"“{text}”位数太多（整数部分最多 {MAX_WHOLE_DIGITS} 位、小数最多 {MAX_FRACTION_DIGITS} 位），"
            "请对照原件检查是否多打了数字"
        )
    try:
        return Decimal(s.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid decimals
        raise AmountError(f"“{text}”不是金额") from None


def is_unknown_mark(text: str) -> bool:
    return bool(UNKNOWN_MARK.match(text.strip()))


def decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def half_unit(value: Decimal) -> Decimal:
    """Half of the last printed digit: 0.005 for `9.10`, 0.05 for `9.1`, 0.5 for `9`."""
    return Decimal(5).scaleb(-decimals(value) - 1)


def rounding_bound(n_parts: int, half: Decimal) -> Decimal:
    """The largest difference rounding alone can make between a total and the sum of its n parts."""
    return half * (n_parts + 1)


def format_amount(value: Decimal, places: int = 2) -> str:
    """`4272.71` → `4,272.71`; always `places` decimals, as the forms print them."""
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum):,.{places}f}"


def format_plain(value: Decimal) -> str:
    """A figure as written, with thousands separators and its own precision: `747788.47` → `747,788.47`."""
    places = decimals(value)
    return f"{value:,.{places}f}"


def format_diff(value: Decimal) -> str:
    return format_amount(abs(value))
