# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for Kubernetes resource quantities."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.aiplatform.obot.plugins.module_utils.quantity import QuantityError, compare_quantities, parse_quantity


def k8s_quantity(value):
    """The quantity's value as a float (cores for cpu, bytes for memory)."""
    try:
        return float(parse_quantity(value))
    except QuantityError as exc:
        raise AnsibleFilterError(str(exc))


def k8s_quantity_compare(left, right):
    """-1, 0 or 1 as left is smaller than, equal to or larger than right."""
    try:
        return compare_quantities(left, right)
    except QuantityError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    """aiplatform.obot quantity filters."""

    def filters(self):
        return {"k8s_quantity": k8s_quantity, "k8s_quantity_compare": k8s_quantity_compare}
