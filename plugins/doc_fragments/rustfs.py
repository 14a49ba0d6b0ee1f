# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    """Connection options of the aiplatform.obot.rustfs_* modules."""

    DOCUMENTATION = r'''
options:
  endpoint:
    description:
      - Base URL of the RustFS server as the controller reaches it, for example C(http://127.0.0.1:9000).
      - The admin API is called under C(/rustfs/admin/v3) of this URL; bucket calls use path-style addressing.
    type: str
    required: true
  access_key:
    description:
      - Access key of an administrator (usually the RustFS root user).
    type: str
    required: true
  secret_key:
    description:
      - Secret key of the administrator. Never logged or returned.
    type: str
    required: true
  region:
    description:
      - Region used in the AWS Signature Version 4 scope.
    type: str
    default: us-east-1
  validate_certs:
    description:
      - Verify the server's TLS certificate when O(endpoint) is https.
    type: bool
    default: true
requirements:
  - boto3 >= 1.34.0 and botocore >= 1.34.0 on the controller
notes:
  - Requests that get no answer (connection refused, reset, timeout) are retried briefly; HTTP errors are not.
  - Rejected admin credentials give one error naming the operation and the HTTP status.
'''
