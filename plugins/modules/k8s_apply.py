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
  - Applies the given objects in order, each with a server-side apply under one field manager that takes over conflicting
    fields (O(state=present)), or deletes them (O(state=absent)). Stops at the first object the API server refuses and
    names it.
  - Runs in the controller's Ansible process, like an action plugin does, with the C(kubernetes) Python client, so one task
    costs a few API requests per object, not a module start, a client import and an API discovery.
  - An object is reported changed when the apply changed (or, in check mode, would change) anything but its status.
  - A kind the cluster does not serve (its CRD is not installed) has nothing to delete and is not an error with
    O(state=absent); an object already being deleted is not deleted again.
  - Shows one diff per changed object in diff mode, without C(metadata.managedFields). A Secret's values are never shown
    (each shows as C(VALUE_HIDDEN), marked C(old) and C(new) when it changes); a removed object's diff names it (apiVersion,
    kind, namespace and name), never its content. Still run tasks that hold Secrets with C(no_log), as the task's
    arguments hold their values.
  - In check mode, objects in a namespace the same list creates are reported as to be created (a dry run cannot place
    them in a namespace that does not exist yet).
  - The connection comes from O(kubeconfig) and O(context), else from the controller's environment. The module is in
    the action group C(aiplatform.obot.k8s) for C(module_defaults).
options:
  definition:
    description: The objects, each a complete Kubernetes object.
    type: list
    elements: dict
    required: true
  state:
    description: Whether the objects in O(definition) should exist.
    type: str
    choices: [present, absent]
    default: present
  remove:
    description:
      - Objects to delete in the same task, after O(definition), as O(state=absent) would (the objects of features
        switched off, say). Only their apiVersion, kind, name and namespace matter.
    type: list
    elements: dict
    default: []
  field_manager:
    description: The server-side apply field manager.
    type: str
    default: aiplatform.obot
  force_conflicts:
    description: Take over fields another manager owns.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: A server-side dry run.
  diff_mode:
    support: full
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - aiplatform.obot.controller
  - aiplatform.obot.kube
seealso:
  - module: aiplatform.obot.k8s_read
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

- name: Apply the server and remove its ServiceMonitor (monitoring switched off) in one task
  aiplatform.obot.k8s_apply:
    definition: "{{ lookup('ansible.builtin.template', 'server.yml.j2') | ansible.builtin.from_yaml_all | list }}"
    remove:
      - apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata: {name: obot, namespace: ai-system}
"""

RETURN = r"""
results:
  description: One entry per object, in the order given (O(definition), then O(remove)).
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
      sample: false
"""
