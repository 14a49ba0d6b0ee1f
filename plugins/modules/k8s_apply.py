#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_apply
short_description: Apply or remove a list of Kubernetes objects the collection's way
version_added: 0.1.0
author:
  - aiplatform.obot developers (!UNKNOWN)
description:
  - Runs M(kubernetes.core.k8s) once for all the given objects, so a role pays one module start for many objects.
  - With O(state=present), server-side apply under one field manager, taking over conflicting fields.
  - With O(state=absent), deletes the objects; a kind the cluster does not serve (its CRD is not installed) has nothing
    to delete and is not an error.
  - Shows one diff per changed object in diff mode (M(kubernetes.core.k8s) keeps them inside its result for a list);
    a removed object's diff names it (kind, namespace and name), never its content.
  - The connection comes from O(kubeconfig) and O(context), or the environment (E(K8S_AUTH_KUBECONFIG), E(KUBECONFIG))
    as for M(kubernetes.core.k8s). The module is in the action group C(aiplatform.obot.k8s) for C(module_defaults).
  - Run tasks that hold Secrets with C(no_log), which also hides their diff.
options:
  definition:
    description: The objects, each a complete Kubernetes object.
    type: list
    elements: dict
    required: true
  state:
    description: Whether the objects should exist.
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description: The server-side apply field manager.
    type: str
    default: aiplatform.obot
  force_conflicts:
    description: Take over fields another manager owns.
    type: bool
    default: true
  kubeconfig:
    description:
      - Path to a kubeconfig file, or a kubeconfig as a dict, passed to M(kubernetes.core.k8s).
    type: raw
  context:
    description: The kubeconfig context to use.
    type: str
attributes:
  check_mode:
    support: full
    description: A server-side dry run.
  diff_mode:
    support: full
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    platforms: all
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
requirements:
  - kubernetes.core
  - kubernetes (Python)
"""

EXAMPLES = r"""
- name: Apply the namespace and its quota
  aiplatform.obot.k8s_apply:
    definition: "{{ lookup('ansible.builtin.template', 'sandbox.yml.j2') | ansible.builtin.from_yaml_all | list }}"

- name: Remove the objects of switched-off features
  aiplatform.obot.k8s_apply:
    state: absent
    definition:
      - apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata: {name: obot, namespace: ai-system}
"""

RETURN = r"""
results:
  description: One entry per object, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    object:
      description: Kind, namespace and name.
      type: str
      sample: ResourceQuota obot-mcp/mcp-servers-quota
    changed:
      description: Whether the object changed (or would change, in check mode).
      type: bool
"""
