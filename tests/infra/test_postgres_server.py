"""The PostgreSQL fixture gives a real server that stores and returns rows."""

import psycopg


def test_postgres_fixture_is_a_real_server(postgres) -> None:
    url = postgres.create_database("fixture_check")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE t (x integer)")
        conn.execute("INSERT INTO t VALUES (41), (1)")
        total = conn.execute("SELECT sum(x) FROM t").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    assert total == 42
    assert version.split(".")[0].isdigit()
