# -*- coding: utf-8 -*-
# Copyright: (c) 2026, aiplatform.obot developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL helpers (psycopg 3): log in over TCP, tell whether a password is accepted, and
set or compare a role's password without the password ever reaching SQL text, logs or errors.

A new password is sent as a SCRAM-SHA-256 verifier computed here (salt + PBKDF2, like libpq's
PQencryptPasswordConn and psql's \\password), so the plain password never leaves this process.
Whether a stored verifier belongs to a candidate password is decided by recomputing it from the
stored salt and iteration count.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stringprep
import unicodedata

try:
    import psycopg
    from psycopg import sql

    HAS_PSYCOPG = True
    PSYCOPG_IMPORT_ERROR = None
except ImportError as import_error:  # pragma: no cover - reported by the module
    HAS_PSYCOPG = False
    PSYCOPG_IMPORT_ERROR = import_error

SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations
SCRAM_SALT_BYTES = 16
MASK = "********"

# Server messages that mean "these credentials were refused" (as opposed to "could not ask").
_REFUSAL_MARKERS = (
    "password authentication failed",
    "is not permitted to log in",
    "no pg_hba.conf entry",
    "authentication failed",
)


class PostgresError(Exception):
    """A PostgreSQL operation failed. The message never holds a password or a verifier."""


# -- SCRAM-SHA-256 verifiers -------------------------------------------------------------------

def saslprep(password):
    """Bytes PostgreSQL feeds to PBKDF2 for ``password`` (RFC 4013 SASLprep, as pg_saslprep does).

    PostgreSQL falls back to the raw UTF-8 bytes when the password is not valid SASLprep input
    (prohibited or unassigned characters, bad bidirectional text), so this does the same.
    """
    raw = password.encode("utf-8")
    if all(0x20 <= byte < 0x7F for byte in raw):  # printable ASCII is left unchanged
        return raw
    mapped = "".join(" " if stringprep.in_table_c12(ch) else ch for ch in password if not stringprep.in_table_b1(ch))
    normalized = unicodedata.normalize("NFKC", mapped)
    if not normalized:
        return raw
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7,
                  stringprep.in_table_c8, stringprep.in_table_c9, stringprep.in_table_a1)
    if any(check(ch) for ch in normalized for check in prohibited):
        return raw
    has_ral = any(stringprep.in_table_d1(ch) for ch in normalized)
    if has_ral and (any(stringprep.in_table_d2(ch) for ch in normalized)
                    or not stringprep.in_table_d1(normalized[0]) or not stringprep.in_table_d1(normalized[-1])):
        return raw
    return normalized.encode("utf-8")


def _scram_keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return stored_key, server_key


def scram_sha256_verifier(password, salt=None, iterations=SCRAM_ITERATIONS):
    """The string PostgreSQL stores in pg_authid.rolpassword for ``password``."""
    salt = os.urandom(SCRAM_SALT_BYTES) if salt is None else salt
    stored_key, server_key = _scram_keys(password, salt, iterations)
    b64 = base64.b64encode
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt).decode(), b64(stored_key).decode(), b64(server_key).decode())


def parse_scram_verifier(verifier):
    """(iterations, salt, stored_key, server_key) of a SCRAM-SHA-256 verifier, or None."""
    try:
        method, iter_salt, keys = verifier.split("$")
        if method != "SCRAM-SHA-256":
            return None
        iterations, salt = iter_salt.split(":")
        stored_key, server_key = keys.split(":")
        return int(iterations), base64.b64decode(salt, validate=True), base64.b64decode(stored_key, validate=True), base64.b64decode(server_key, validate=True)
    except (ValueError, AttributeError):
        return None


def verifier_matches(verifier, password, username=None):
    """True when the stored ``verifier`` (SCRAM-SHA-256, or legacy md5 when ``username`` is given)
    belongs to ``password``."""
    if not verifier or password is None:
        return False
    parsed = parse_scram_verifier(verifier)
    if parsed:
        iterations, salt, stored_key, server_key = parsed
        candidate_stored, candidate_server = _scram_keys(password, salt, iterations)
        return hmac.compare_digest(candidate_stored, stored_key) and hmac.compare_digest(candidate_server, server_key)
    if verifier.startswith("md5") and len(verifier) == 35 and username is not None:
        digest = "md5" + hashlib.md5((password + username).encode("utf-8")).hexdigest()  # nosec - PostgreSQL's legacy format
        return hmac.compare_digest(digest, verifier)
    return False


# -- connections -------------------------------------------------------------------------------

def _clean(message, secrets):
    """Error text from psycopg without any of ``secrets`` (and without the connection details
    psycopg keeps on the exception object, which hold the password)."""
    text = " ".join(str(message).split())
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _require_psycopg():
    if not HAS_PSYCOPG:
        raise PostgresError("the Python package psycopg (version 3) is required: pip install 'psycopg[binary]'")


def connect(host, port, user, password, dbname, sslmode="prefer", connect_timeout=10):
    """An autocommit connection. Raises PostgresError (password masked) when it fails."""
    _require_psycopg()
    try:
        return psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname, sslmode=sslmode,
                               connect_timeout=connect_timeout, autocommit=True, application_name="aiplatform.obot")
    except psycopg.Error as exc:
        message = _clean(exc, [password])
    raise PostgresError("cannot connect to PostgreSQL at %s:%s as %s: %s" % (host, port, user, message))


def password_accepted(host, port, user, password, dbname, sslmode="prefer", connect_timeout=10):
    """True when PostgreSQL lets ``user`` log in with ``password``; False when it refuses the
    credentials. Any other failure (unreachable server, unknown database) raises PostgresError,
    because then nothing can be said about the password."""
    try:
        conn = connect(host, port, user, password, dbname, sslmode, connect_timeout)
    except PostgresError as exc:
        if any(marker in str(exc) for marker in _REFUSAL_MARKERS):
            return False
        raise
    conn.close()
    return True


def role_password(conn, role):
    """(exists, can_login, stored verifier or None) for ``role``; needs superuser (pg_authid)."""
    try:
        row = conn.execute("SELECT rolcanlogin, rolpassword FROM pg_catalog.pg_authid WHERE rolname = %s", (role,)).fetchone()
    except psycopg.Error as exc:
        raise PostgresError("cannot read role %s: %s" % (role, _clean(exc, []))) from None
    if row is None:
        return False, False, None
    return True, bool(row[0]), row[1]


def set_role_verifier(conn, role, verifier):
    """ALTER ROLE <role> PASSWORD '<verifier>' (or PASSWORD NULL). The verifier is pre-computed, so
    the server never sees a plain password; it is not included in any error."""
    password_sql = sql.Literal(verifier) if verifier is not None else sql.SQL("NULL")
    statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), password_sql)
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        raise PostgresError("ALTER ROLE %s PASSWORD failed: %s" % (role, _clean(exc, [verifier]))) from None


def set_role_password(conn, role, password):
    """Give ``role`` a new password, sent as a freshly salted SCRAM-SHA-256 verifier."""
    set_role_verifier(conn, role, scram_sha256_verifier(password))
