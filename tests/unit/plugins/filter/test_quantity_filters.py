import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.obot.plugins.filter.quantity import FilterModule, k8s_quantity, k8s_quantity_compare


def test_filters_registered():
    assert set(FilterModule().filters()) == {"k8s_quantity", "k8s_quantity_compare"}


def test_k8s_quantity():
    assert k8s_quantity("512Mi") == 512 * 2 ** 20
    assert k8s_quantity("250m") == 0.25


def test_k8s_quantity_compare():
    assert k8s_quantity_compare("500m", "2") == -1
    assert k8s_quantity_compare("1Gi", "1024Mi") == 0


@pytest.mark.parametrize("bad", ["1GB", "", "x"])
def test_malformed_quantities_fail(bad):
    with pytest.raises(AnsibleFilterError, match="not a Kubernetes quantity"):
        k8s_quantity(bad)
    with pytest.raises(AnsibleFilterError):
        k8s_quantity_compare(bad, "1")
