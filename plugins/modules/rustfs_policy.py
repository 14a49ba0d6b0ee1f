#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: rustfs_policy
short_description: Manage RustFS canned (IAM) policies
version_added: 0.1.0
description:
  - Creates, updates and deletes canned policies of a RustFS server through its admin API.
  - RustFS silently overwrites a policy on re-creation and echoes it back with statements
    reordered and empty fields added, so the module compares a canonical form and writes only
    when the policy really differs.
author:
  - aiplatform.obot developers (!UNKNOWN)
extends_documentation_fragment:
  - aiplatform.obot.rustfs
options:
  name:
    description:
      - Name of the policy (no spaces or commas).
    type: str
    required: true
  policy:
    description:
      - The policy document, as a mapping or a JSON string. Required when O(state=present).
      - Must have a C(Version) and, in every statement, an C(Effect), an C(Action) and a non-empty C(Resource).
    type: raw
  state:
    description:
      - Whether the policy should exist. A policy still attached to a user cannot be deleted.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reads the server and reports what would change without writing.
  diff_mode:
    support: full
    description: Shows the canonical policy before and after.
'''

EXAMPLES = r'''
- name: Read-write access to one bucket
  aiplatform.obot.rustfs_policy:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
    name: obot-postgres-backups-rw
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [s3:ListBucket, s3:GetBucketLocation]
          Resource: [arn:aws:s3:::obot-postgres-backups]
        - Effect: Allow
          Action: [s3:GetObject, s3:PutObject, s3:DeleteObject]
          Resource: [arn:aws:s3:::obot-postgres-backups/*]
'''

RETURN = r'''
policy:
  description: The canonical policy after the run (empty when absent).
  returned: always
  type: dict
actions:
  description: Admin API operations performed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [add-canned-policy]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    ensure_policy,
    run_module,
    rustfs_argument_spec,
)


def main():
    argument_spec = rustfs_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        policy=dict(type="raw"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[("state", "present", ["policy"])])
    run_module(module, lambda client, p: ensure_policy(client, p["name"], policy=p["policy"], state=p["state"],
                                                       check_mode=module.check_mode),
               result_key="policy")


if __name__ == "__main__":
    main()
