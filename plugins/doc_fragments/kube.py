# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of the in-controller Kubernetes modules (k8s_apply, k8s_read)."""

    DOCUMENTATION = r'''
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file (or several, separated by colons), or a kubeconfig as a dict.
      - Without it, E(K8S_AUTH_KUBECONFIG), E(KUBECONFIG), C(~/.kube/config) or the in-cluster service account of the
        controller.
    type: raw
  context:
    description:
      - The kubeconfig context to use; without it, E(K8S_AUTH_CONTEXT) or the current context.
    type: str
requirements:
  - kubernetes (Python, on the controller)
'''
