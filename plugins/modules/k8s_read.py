#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_read
short_description: Read several Kubernetes objects, lists and kinds in one task
version_added: 0.1.0
author:
  - aiplatform.obot developers (!UNKNOWN)
description:
  - Answers each of the named O(queries) the way M(kubernetes.core.k8s_info) would (RV(results.api_found) and
    RV(results.resources)), in one task.
  - Runs in the controller's Ansible process, like an action plugin does, with the C(kubernetes) Python client, so one task
    costs a request or two per query, not a module start, a client import and an API discovery.
  - A kind the cluster does not serve (its CRD is not installed) is answered with RV(results.api_found=false), not an
    error, so the query doubles as a check that an API is there.
  - C(metadata.managedFields) is left out of the objects unless O(managed_fields=true). Run tasks that read Secrets
    with C(no_log).
  - The connection comes from O(kubeconfig) and O(context), else from the controller's environment. The module is in
    the action group C(aiplatform.obot.k8s) for C(module_defaults).
options:
  queries:
    description:
      - What to read, by a name of your choice; the answers come back under the same names.
      - Each query is a dict with C(api_version) and C(kind) (required), C(namespace), C(name) (one object; without it,
        every object of the kind, in C(namespace) when given) and C(label_selectors) (a list such as C(app=obot),
        for a list).
    type: dict
    required: true
  managed_fields:
    description:
      - Keep C(metadata.managedFields) in the objects (they are large, and few tasks need them).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads the same in check mode.
  diff_mode:
    support: none
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.flow
  - aiplatform.obot.controller
  - aiplatform.obot.kube
seealso:
  - module: aiplatform.obot.k8s_apply
"""

EXAMPLES = r"""
- name: Read the database Secret and look for the Gateway API
  aiplatform.obot.k8s_read:
    queries:
      db_secret: {api_version: v1, kind: Secret, namespace: ai-system, name: obot-db-secret}
      route: {api_version: gateway.networking.k8s.io/v1, kind: HTTPRoute, namespace: ai-system, name: obot}
      written: {api_version: v1, kind: Secret, namespace: ai-system, label_selectors: ["aiplatform.obot/written-by=obot_db"]}
  register: cluster
  no_log: true

- name: Use them
  ansible.builtin.debug:
    msg: "{{ cluster.results.route.api_found }} {{ cluster.results.written.resources | length }}"
"""

RETURN = r"""
results:
  description: One answer per query, under the query's name.
  returned: always
  type: dict
  contains:
    api_found:
      description: Whether the cluster serves the query's kind.
      type: bool
      sample: true
    resources:
      description: The objects found (none when the object or the kind does not exist).
      type: list
      elements: dict
      sample: []
"""
