#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: rustfs_info
short_description: Read users, policies and buckets of a RustFS server
version_added: 0.1.0
description:
  - Lists the users (status and attached policies), the canned policies (in canonical form)
    and the buckets of a RustFS server. Never returns secret keys.
author:
  - aiplatform.obot developers (!UNKNOWN)
extends_documentation_fragment:
  - aiplatform.obot.rustfs
options:
  gather:
    description:
      - What to read.
    type: list
    elements: str
    choices: [users, policies, buckets]
    default: [users, policies, buckets]
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Nothing changes.
'''

EXAMPLES = r'''
- name: What is on the server
  aiplatform.obot.rustfs_info:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
  register: rustfs
'''

RETURN = r'''
users:
  description: Users by access key, with status and attached policies.
  returned: when users are gathered
  type: dict
  sample: {obot-backup: {status: enabled, policies: [obot-postgres-backups-rw]}}
policies:
  description: Canned policies by name, in canonical form.
  returned: when policies are gathered
  type: dict
buckets:
  description: Bucket names.
  returned: when buckets are gathered
  type: list
  elements: str
  sample: [obot-postgres-backups]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    BOTO3_IMPORT_ERROR,
    HAS_BOTO3,
    RustfsClient,
    RustfsError,
    gather_info,
    rustfs_argument_spec,
)


def main():
    argument_spec = rustfs_argument_spec()
    argument_spec.update(
        gather=dict(type="list", elements="str", choices=["users", "policies", "buckets"],
                    default=["users", "policies", "buckets"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib("boto3"), exception=str(BOTO3_IMPORT_ERROR))
    p = module.params
    try:
        client = RustfsClient(p["endpoint"], p["access_key"], p["secret_key"], p["region"], p["validate_certs"])
        result = gather_info(client, p["gather"])
    except RustfsError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
