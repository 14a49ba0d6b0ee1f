from decimal import Decimal

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils.quantity import QuantityError, compare_quantities, parse_quantity


@pytest.mark.parametrize("text, value", [
    ("500m", Decimal("0.5")), ("2", Decimal(2)), ("0.5", Decimal("0.5")), ("512Mi", Decimal(512 * 2 ** 20)),
    ("1Gi", Decimal(2 ** 30)), ("1G", Decimal(10 ** 9)), ("1e3", Decimal(1000)), ("1E3", Decimal(1000)),
    ("100k", Decimal(100000)), ("1Ki", Decimal(1024)), ("250u", Decimal("0.00025")), ("3n", Decimal("3e-9")),
    ("1.5Gi", Decimal("1.5") * 2 ** 30), ("-1", Decimal(-1)), ("+2", Decimal(2)), (".5", Decimal("0.5")),
    (4, Decimal(4)), ("2e-3", Decimal("0.002")),
])
def test_parse(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1gi", "1GB", "1 Gi", " 1Gi", "1Mii", "Gi", "1.2.3", "1e", "m", "1K", "0x10", None, True, [1]])
def test_parse_rejects(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize("left, right, result", [
    ("500m", "1", -1), ("1000m", "1", 0), ("2", "1500m", 1), ("1Gi", "1G", 1), ("1024Mi", "1Gi", 0), ("1e3", "1k", 0),
])
def test_compare(left, right, result):
    assert compare_quantities(left, right) == result
