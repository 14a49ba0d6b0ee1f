"""Find secret values in command output (for the "-vvv --diff prints no secret" checks).

    from testbed.secret_leaks import secret_leaks
    assert not secret_leaks(run.output, {"obot_encryption_key": key})

A secret counts as leaked when it appears as given or base64-encoded (the form of Secret
``data``). The result names the leaked settings, never their values.
"""

from __future__ import annotations

import base64


def secret_leaks(output: str, secrets: dict) -> list:
    """Names of the secrets whose value (or its base64 form) occurs in ``output``."""
    leaked = []
    for name, value in secrets.items():
        if not value:
            continue
        text = str(value)
        forms = (text, base64.b64encode(text.encode()).decode())
        if any(form in output for form in forms):
            leaked.append(name)
    return leaked
