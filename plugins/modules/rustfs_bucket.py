#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: rustfs_bucket
short_description: Manage buckets on a RustFS server
version_added: 0.1.0
description:
  - Creates and deletes buckets through the S3 API (path-style addressing).
  - RustFS answers 200 to the re-creation of an existing bucket, so the module asks whether the
    bucket exists first and reports a change only when it creates or deletes one.
author:
  - aiplatform.obot developers (!UNKNOWN)
extends_documentation_fragment:
  - aiplatform.obot.rustfs
options:
  name:
    description:
      - Name of the bucket (S3 naming rules, 3 to 63 lowercase characters).
    type: str
    required: true
  state:
    description:
      - Whether the bucket should exist. Only an empty bucket is deleted.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Asks whether the bucket exists and reports what would change without writing.
  diff_mode:
    support: full
    description: Shows whether the bucket exists before and after.
'''

EXAMPLES = r'''
- name: Bucket for database backups
  aiplatform.obot.rustfs_bucket:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
    name: obot-postgres-backups
'''

RETURN = r'''
bucket:
  description: The bucket's name and whether it exists after the run.
  returned: always
  type: dict
  sample: {name: obot-postgres-backups, exists: true}
actions:
  description: S3 operations performed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [create-bucket]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    ensure_bucket,
    run_module,
    rustfs_argument_spec,
)


def main():
    argument_spec = rustfs_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda client, p: ensure_bucket(client, p["name"], state=p["state"], check_mode=module.check_mode),
               result_key="bucket")


if __name__ == "__main__":
    main()
