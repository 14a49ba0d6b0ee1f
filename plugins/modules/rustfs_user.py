#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
module: rustfs_user
short_description: Manage RustFS users and the policies attached to them
version_added: 0.1.0
description:
  - Creates, enables, disables and deletes users of a RustFS server through its admin API,
    and attaches exactly the given canned policies.
  - RustFS silently overwrites a user on re-creation, so the module reads the user first and
    writes only what differs. A secret key is compared by signing a read-only request with it,
    so a run with the current secret key changes nothing.
author:
  - aiplatform.obot developers (!UNKNOWN)
extends_documentation_fragment:
  - aiplatform.obot.rustfs
options:
  name:
    description:
      - Access key of the user (3 to 128 characters, no C(/), C(=), C(,) or spaces).
    type: str
    required: true
    aliases: [user_access_key]
  user_secret_key:
    description:
      - Secret key of the user, 8 to 40 characters. Required to create a user.
    type: str
    aliases: [secret]
  state:
    description:
      - Whether the user should exist.
    type: str
    choices: [present, absent]
    default: present
  status:
    description:
      - Whether the user may sign requests.
    type: str
    choices: [enabled, disabled]
    default: enabled
  update_password:
    description:
      - V(always) sets O(user_secret_key) on an existing user when it differs from the current one.
      - V(on_create) sets it only when the user is created.
      - The secret key of a disabled user cannot be verified, so with V(always) it is rewritten (and reported as changed).
    type: str
    choices: [always, on_create]
    default: always
  policies:
    description:
      - Canned policies the user has, exactly; policies not listed are detached. An empty list detaches all.
      - Omit to leave the attached policies alone.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Reads the server and reports what would change without writing.
  diff_mode:
    support: full
    description: Shows status and policies before and after; never the secret key.
'''

EXAMPLES = r'''
- name: Backup user with exactly its bucket policy
  aiplatform.obot.rustfs_user:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
    name: obot-backup
    user_secret_key: "{{ obot_s3_secret_key }}"
    policies: [obot-postgres-backups-rw]

- name: Disable a user, keeping its secret key
  aiplatform.obot.rustfs_user:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
    name: obot-audit
    status: disabled

- name: Remove a user
  aiplatform.obot.rustfs_user:
    endpoint: http://127.0.0.1:9000
    access_key: "{{ rustfs_root_user }}"
    secret_key: "{{ rustfs_root_password }}"
    name: obot-old
    state: absent
'''

RETURN = r'''
user:
  description: The user after the run (empty when absent). Never holds the secret key.
  returned: always
  type: dict
  sample: {access_key: obot-backup, status: enabled, policies: [obot-postgres-backups-rw]}
actions:
  description: Admin API operations performed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [add-user, set-user-or-group-policy]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.aiplatform.obot.plugins.module_utils.rustfs import (
    ensure_user,
    run_module,
    rustfs_argument_spec,
)


def main():
    argument_spec = rustfs_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True, aliases=["user_access_key"]),
        user_secret_key=dict(type="str", no_log=True, aliases=["secret"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        status=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
        update_password=dict(type="str", default="always", choices=["always", "on_create"], no_log=False),
        policies=dict(type="list", elements="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda client, p: ensure_user(
        client, p["name"], secret_key=p["user_secret_key"], state=p["state"], status=p["status"],
        update_password=p["update_password"], policies=p["policies"], check_mode=module.check_mode),
        result_key="user")


if __name__ == "__main__":
    main()
