"""The PostgreSQL helpers of the collection against a real PostgreSQL 18 with pgvector."""

import pytest

from ansible_collections.aiplatform.obot.plugins.module_utils import postgres as pg

pytestmark = pytest.mark.postgres


def test_pgvector_extension_works(pg_server, db_role):
    with pg_server.connect(dbname=db_role.database) as conn:
        conn.execute("CREATE EXTENSION vector")
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0]
        conn.execute("CREATE TABLE items (id int, embedding vector(3))")
        conn.execute("INSERT INTO items VALUES (1, '[1,0,0]'), (2, '[0,1,0]')")
        nearest = conn.execute("SELECT id FROM items ORDER BY embedding <-> '[0.9,0.1,0]' LIMIT 1").fetchone()[0]
    assert version.startswith("0.8")
    assert nearest == 1


def test_password_accepted_tells_refusal_from_acceptance(pg_server, db_role):
    args = (pg_server.host, pg_server.port, db_role.name)
    assert pg.password_accepted(*args, db_role.password, db_role.database)
    assert not pg.password_accepted(*args, "wrong-" + db_role.password, db_role.database)
    with pg_server.connect() as conn:
        conn.execute(f'ALTER ROLE "{db_role.name}" NOLOGIN')
    assert not pg.password_accepted(*args, db_role.password, db_role.database)


def test_unreachable_server_raises_without_the_password(pg_server, db_role):
    with pytest.raises(pg.PostgresError) as info:
        pg.password_accepted(pg_server.host, 1, db_role.name, db_role.password, db_role.database, connect_timeout=2)
    assert db_role.password not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None  # psycopg's error keeps the password


def test_set_role_password_never_sends_the_password(pg_server, db_role):
    new = "N3w-" + db_role.password[::-1]
    with pg_server.connect() as conn:
        conn.execute("SET log_statement = 'all'")  # the server logs every statement it gets
        pg.set_role_password(conn, db_role.name, new)
        exists, can_login, verifier = pg.role_password(conn, db_role.name)
    assert exists and can_login
    assert pg.verifier_matches(verifier, new) and not pg.verifier_matches(verifier, db_role.password)
    assert db_role.can_login(new) and not db_role.can_login(db_role.password)
    log = pg_server.log_file.read_text(errors="replace")
    assert "ALTER ROLE" in log and new not in log


def test_verifier_restored_exactly(pg_server, db_role):
    before = db_role.verifier()
    with pg_server.connect() as conn:
        pg.set_role_password(conn, db_role.name, "Temp-password-123")
        pg.set_role_verifier(conn, db_role.name, before)
    assert db_role.verifier() == before
    assert db_role.can_login(db_role.password)


def test_server_verifier_matches_locally_computed_one(pg_server, db_role):
    stored = db_role.verifier()
    iterations, salt = pg.parse_scram_verifier(stored)[:2]
    assert pg.scram_sha256_verifier(db_role.password, salt=salt, iterations=iterations) == stored


def test_non_ascii_password_logs_in(pg_server, db_role):
    """SASLprep: PostgreSQL normalises non-ASCII passwords; our verifier must agree with libpq."""
    new = "Pässwörd\u00a0with\u2168-" + db_role.name
    with pg_server.connect() as conn:
        pg.set_role_password(conn, db_role.name, new)
    assert db_role.can_login(new)
    assert pg.verifier_matches(db_role.verifier(), new)
