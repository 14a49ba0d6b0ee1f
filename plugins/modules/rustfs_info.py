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

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    gather_info,
    run_module,
    rustfs_argument_spec,
)


def main():
    argument_spec = rustfs_argument_spec()
    argument_spec.update(
        gather=dict(type="list", elements="str", choices=["users", "policies", "buckets"],
                    default=["users", "policies", "buckets"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda client, p: gather_info(client, p["gather"]))


if __name__ == "__main__":
    main()
