"""Currency facts the sandbox needs: Meta's minor-unit offsets and rough USD rates for plausible numbers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Meta stores budgets in minor units; these currencies have offset 1 (no minor unit), all others 100.
ZERO_DECIMAL_CURRENCIES = frozenset({"CLP", "COP", "CRC", "HUF", "IDR", "ISK", "JPY", "KRW", "PYG", "TWD", "VND"})

# Units of currency per USD; only used to keep generated amounts plausible, never for conversion.
USD_RATES: dict[str, Decimal] = {
    "USD": Decimal("1"),
    "EUR": Decimal("0.92"),
    "GBP": Decimal("0.79"),
    "CHF": Decimal("0.88"),
    "CAD": Decimal("1.36"),
    "AUD": Decimal("1.52"),
    "SEK": Decimal("10.5"),
    "NOK": Decimal("10.7"),
    "DKK": Decimal("6.9"),
    "PLN": Decimal("4.0"),
    "BRL": Decimal("5.0"),
    "MXN": Decimal("17"),
    "INR": Decimal("83"),
    "JPY": Decimal("150"),
    "KRW": Decimal("1350"),
    "CLP": Decimal("900"),
    "COP": Decimal("3900"),
    "CRC": Decimal("520"),
    "HUF": Decimal("360"),
    "IDR": Decimal("15500"),
    "ISK": Decimal("138"),
    "PYG": Decimal("7300"),
    "TWD": Decimal("31"),
    "VND": Decimal("24000"),
}

_CENT = Decimal("0.01")
_ONE = Decimal("1")


def offset(currency: str) -> int:
    """Minor units per major unit as Meta counts them (1 or 100)."""
    return 1 if currency in ZERO_DECIMAL_CURRENCIES else 100


def quantum(currency: str) -> Decimal:
    """Smallest amount of major units reported: 1 for offset-1 currencies, 0.01 otherwise."""
    return _ONE if offset(currency) == 1 else _CENT


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round a major-unit amount to what Meta reports for the currency."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def usd_rate(currency: str) -> Decimal:
    """Rough units per USD (1 for unknown currencies)."""
    return USD_RATES.get(currency, _ONE)


def to_minor(amount_major: Decimal, currency: str) -> int:
    """Major units -> integer minor units (Meta's budget representation)."""
    return int((amount_major * offset(currency)).to_integral_value(rounding=ROUND_HALF_UP))


def format_major(amount: Decimal, currency: str) -> str:
    """Major units as the JSON string Meta's insights use ("8.53", or "1234" for JPY)."""
    return str(quantize(amount, currency))
