#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: rustfs_access_check
short_description: Prove that a RustFS user has exactly the access to buckets it should
version_added: 0.1.0
description:
  - Signs requests with the user's own keys and checks that it can list, write, read and delete
    objects in O(bucket) and is denied listing and writing in each of O(denied_buckets).
  - The probe object is deleted again, so nothing changes; the module always reports C(changed=false).
  - Fails with a message naming the user, the bucket and the operation when the access is wrong.
author:
  - aiplatform.obot developers (!UNKNOWN)
extends_documentation_fragment:
  - aiplatform.obot.rustfs
options:
  user_access_key:
    description:
      - Access key of the user to check.
    type: str
    required: true
  user_secret_key:
    description:
      - Secret key of the user to check.
    type: str
    required: true
  bucket:
    description:
      - The bucket the user must be able to use.
    type: str
    required: true
  denied_buckets:
    description:
      - Buckets the user must not be able to list or write.
    type: list
    elements: str
    default: []
  timeout:
    description:
      - Seconds to wait for a new user or policy to take effect on the server.
    type: int
    default: 30
attributes:
  check_mode:
    support: partial
    details: In check mode only listing is probed (a probe write would be a write).
    description: Probes without writing.
  diff_mode:
    support: none
    description: Nothing changes.
'''

EXAMPLES = r'''
- name: The backup user reaches its bucket and nothing else
  aiplatform.obot.rustfs_access_check:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
    user_access_key: obot-backup
    user_secret_key: "{{ obot_s3_secret_key }}"
    bucket: obot-postgres-backups
    denied_buckets: [obot-audit-logs, obot-workspaces]
'''

RETURN = r'''
probes:
  description: Every request made, what was expected and what happened.
  returned: success
  type: list
  elements: dict
  sample: [{bucket: obot-postgres-backups, operation: write, expected: allowed, outcome: allowed}]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    check_access,
    run_module,
    rustfs_argument_spec,
)


def main():
    argument_spec = rustfs_argument_spec()
    argument_spec.update(
        user_access_key=dict(type="str", required=True, no_log=False),
        user_secret_key=dict(type="str", required=True, no_log=True),
        bucket=dict(type="str", required=True),
        denied_buckets=dict(type="list", elements="str", default=[]),
        timeout=dict(type="int", default=30),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda client, p: dict(probes=check_access(
        client, p["user_access_key"], p["user_secret_key"], p["bucket"], p["denied_buckets"],
        check_mode=module.check_mode, timeout=p["timeout"])))


if __name__ == "__main__":
    main()
