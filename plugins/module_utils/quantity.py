# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities ("500m", "2", "512Mi", "1G", "1e3"), parsed the way the
API server does (k8s.io/apimachinery/pkg/api/resource), so settings can be compared
before anything is sent to a cluster."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}
# <sign><digits>[.<digits>] then a binary suffix, a decimal suffix or an exponent.
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]?|[eE][+-]?[0-9]+)$")


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity."""


def parse_quantity(value):
    """Return the quantity as a Decimal, or raise QuantityError."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError("not a quantity: expected a string such as 500m or 1Gi")
    text = str(value).strip() if not isinstance(value, str) else value
    match = _QUANTITY.match(text)
    if not match:
        raise QuantityError("'%s' is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 1G)" % text)
    number, suffix = match.groups()
    try:
        amount = Decimal(number)
    except InvalidOperation:  # pragma: no cover - the pattern already guards this
        raise QuantityError("'%s' is not a Kubernetes quantity" % text)
    if suffix in _BINARY:
        return amount * _BINARY[suffix]
    if suffix in _DECIMAL:
        return amount * _DECIMAL[suffix]
    return amount * (Decimal(10) ** int(suffix[1:]))


def compare_quantities(left, right):
    """-1, 0 or 1 as left is smaller than, equal to or larger than right."""
    a, b = parse_quantity(left), parse_quantity(right)
    return (a > b) - (a < b)
