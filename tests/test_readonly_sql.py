"""`newsmon sql`: reads work, anything else is refused and changes nothing.

Runs on a real SQLite file and a real PostgreSQL database (``db_url``). Each
refused statement is checked twice: the error class, and that the database
(and the file system, for ATTACH/VACUUM INTO) is exactly as before.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli import cli
from storage.db import Database
from storage.errors import ReadOnlyViolation, StorageError
from storage.readonly import check_query, run_query, split_statements, sql_parameters, to_pyformat
from tests.support.rows import fill_realistic


@pytest.fixture
def filled(db: Database) -> Database:
    fill_realistic(db)
    return db


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        return {t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}


def _run(db: Database, sql: str, **kw: object):
    kw = {"timeout": 5.0, "max_rows": 1000, **kw}
    return run_query(_url(db), sql, **kw)  # type: ignore[arg-type]


def test_select_works_with_bound_parameters(filled: Database) -> None:
    result = _run(filled, "SELECT holder, cue FROM stances_v WHERE target = :t ORDER BY cue",
                  params={"t": "Jens Stoltenberg"})
    assert result.columns == ("holder", "cue")
    assert ("White House", "pushback") in result.rows
    assert not result.truncated


def test_parameters_are_not_interpolated(filled: Database) -> None:
    sneaky = "x'; DROP TABLE feeds; --"
    result = _run(filled, "SELECT :v AS v, 'a:b %' AS w", params={"v": sneaky})
    assert result.rows == [(sneaky, "a:b %")]
    assert _counts(filled)["feeds"] == 5


REFUSED = [
    "INSERT INTO feeds (name, url, tags, interval_s, enabled, last_new_items, "
    "consecutive_errors, created_at) VALUES ('x', 'u', '[]', 1, true, 0, 0, '2024-01-01')",
    "UPDATE articles SET title = 'pwned'",
    "DELETE FROM stances",
    "DROP TABLE mentions",
    "DROP VIEW stances_v",
    "CREATE TABLE notes (a INTEGER)",
    "ALTER TABLE feeds ADD COLUMN x INTEGER",
    "WITH doomed AS (SELECT id FROM articles) DELETE FROM articles WHERE id IN (SELECT id FROM doomed)",
    "SELECT 1; DROP TABLE feeds",
    "SELECT 1; SELECT 2",
    "select 1 /* ; */ ; delete from amounts -- ;",
    "PRAGMA user_version = 7",
    "PRAGMA journal_mode = DELETE",
    "BEGIN",
    # second statements that a MySQL-minded lexer (sqlparse's default) cannot see
    "SELECT 'a\\'; DELETE FROM stances; --'",
    'SELECT 1 AS "a\\"; DELETE FROM stances; --"',
    "SELECT id AS begin, 2 FROM feeds; DELETE FROM stances",
    "SELECT 1 # 2; DELETE FROM stances",
    "WITH d AS MATERIALIZED (SELECT 1) DELETE FROM stances",
]


def test_writes_ddl_and_second_statements_are_refused(filled: Database) -> None:
    before = _counts(filled)
    for sql in REFUSED:
        with pytest.raises(ReadOnlyViolation):
            _run(filled, sql)
    assert _counts(filled) == before
    with filled.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM stances_v")).scalar_one() > 0
        assert conn.execute(sa.text("SELECT COUNT(*) FROM mentions")).scalar_one() > 0
        titles = conn.execute(sa.text("SELECT title FROM articles")).scalars().all()
    assert "pwned" not in titles


def test_semicolons_in_literals_names_and_comments_run(filled: Database) -> None:
    cases = [("SELECT 'a;b' AS v; -- done\n", "a;b"), ("SELECT 1 /* ; */ AS v;  \n\t", 1),
             ('SELECT "v;" FROM (SELECT 2 AS "v;") AS t; /* bye; */', 2),
             ("SELECT 'it''s; :x %' AS v", "it's; :x %")]
    if filled.engine.dialect.name == "postgresql":
        cases += [("SELECT $$;$$ AS v", ";"), ("SELECT $q$ '; $$ $q$ AS v", " '; $$ "),
                  ("SELECT E'\\';' AS v", "';"), ("SELECT $$100% :x$$ AS v", "100% :x")]
    for sql, value in cases:
        assert _run(filled, sql).rows == [(value,)], sql


def test_data_modifying_cte_is_refused_by_the_database(filled: Database) -> None:
    # Not the lexer's business (the main statement is a SELECT): PostgreSQL's
    # read-only transaction refuses it, SQLite cannot parse it.
    sql = "WITH d AS (DELETE FROM stances RETURNING id) SELECT COUNT(*) FROM d"
    before = _counts(filled)
    expected = ReadOnlyViolation if filled.engine.dialect.name == "postgresql" else StorageError
    with pytest.raises(expected):
        _run(filled, sql)
    assert _counts(filled) == before


def test_attach_and_vacuum_into_create_no_file(filled: Database, tmp_path: Path) -> None:
    target = tmp_path / "escape.db"
    for sql in (f"ATTACH DATABASE '{target}' AS escape", f"VACUUM INTO '{target}'",
                f"SELECT 1; ATTACH '{target}' AS e"):
        with pytest.raises(ReadOnlyViolation):
            _run(filled, sql)
    assert not target.exists()


def test_sqlite_guards_hold_below_the_keyword_check(sqlite_url: str, tmp_path: Path) -> None:
    """The raw connection refuses on its own what the keyword check also refuses."""
    from storage.db import open_database
    from storage.readonly import connect_sqlite_readonly

    open_database(sqlite_url).dispose()
    target = tmp_path / "escape2.db"
    conn = connect_sqlite_readonly(sa.engine.make_url(sqlite_url).database or "", timeout=5)
    try:
        for sql in (f"ATTACH '{target}' AS e", f"VACUUM INTO '{target}'",
                    "PRAGMA user_version = 3", "CREATE TEMP TABLE t (a)",
                    "SELECT load_extension('evil')"):
            with pytest.raises(Exception, match="not authorized|denied|readonly"):
                conn.execute(sql)
    finally:
        conn.close()
    assert not target.exists()


def test_runaway_recursive_cte_stops_at_timeout(filled: Database) -> None:
    sql = ("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
           "SELECT COUNT(*) FROM n")
    started = time.monotonic()
    with pytest.raises(StorageError) as info:
        _run(filled, sql, timeout=0.5)
    assert info.value.reason == "sql_timeout"
    assert "0.5 s" in str(info.value)
    assert time.monotonic() - started < 5


def test_row_cap_truncates_and_says_so(filled: Database) -> None:
    result = _run(filled, "SELECT id FROM articles ORDER BY id", max_rows=3)
    assert len(result.rows) == 3 and result.truncated
    assert not _run(filled, "SELECT id FROM articles", max_rows=100).truncated


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT 'a;b'; ", ["SELECT 'a;b'"]),
    ('SELECT "x;y" FROM t', ['SELECT "x;y" FROM t']),
    ("SELECT 1 -- ; not a split\n", ["SELECT 1 -- ; not a split"]),
    ("SELECT 1; DROP TABLE x", ["SELECT 1", "DROP TABLE x"]),
    ("  ;; SELECT 1 ;", ["SELECT 1"]),
])
def test_statement_split_knows_strings_and_comments(sql: str, expected: list[str]) -> None:
    assert split_statements(sql) == expected


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
@pytest.mark.parametrize(("sql", "expected"), [
    # A backslash escapes nothing in standard strings or quoted names.
    ("SELECT 'a\\'; DELETE FROM t; --'", ["SELECT 'a\\'", "DELETE FROM t"]),
    ('SELECT "a\\"; DELETE FROM t; --"', ['SELECT "a\\"', "DELETE FROM t"]),
    # Keywords that open blocks in procedural SQL do not hold a ';' in a query.
    ("SELECT begin FROM t; DELETE FROM t", ["SELECT begin FROM t", "DELETE FROM t"]),
    ("SELECT 1 AS begin, 2; DELETE FROM t", ["SELECT 1 AS begin, 2", "DELETE FROM t"]),
    # '#' starts no comment (MySQL's does).
    ("SELECT 1 # 2; DELETE FROM t", ["SELECT 1 # 2", "DELETE FROM t"]),
    # Comments holding a ';', and trailing ones after the last ';'.
    ("SELECT 1 /* ; */ -- ;\n", ["SELECT 1 /* ; */ -- ;"]),
    ("SELECT 1;  \n\t", ["SELECT 1"]),
    ("SELECT 1; -- done\n", ["SELECT 1"]),
    ("SELECT 1; /* done; really */", ["SELECT 1"]),
    ("/* x; */ SELECT 1", ["/* x; */ SELECT 1"]),
])
def test_statement_split_is_right_where_lexers_often_are_not(
        dialect: str, sql: str, expected: list[str]) -> None:
    assert split_statements(sql, dialect=dialect) == expected


@pytest.mark.parametrize(("sql", "verb"), [
    ("WITH x AS (SELECT 1) DELETE FROM t", "WITH ... DELETE"),
    ("with x(a) as (select 1) update t set a = 1", "WITH ... UPDATE"),
    ("WITH x AS MATERIALIZED (SELECT 1) INSERT INTO t SELECT * FROM x", "WITH ... INSERT"),
    ("/* hi */ EXPLAIN SELECT 1", "EXPLAIN"),
    ("PRAGMA user_version", "PRAGMA"),
    ("(SELECT 1)", "?"),
])
def test_refusal_names_what_the_statement_does(sql: str, verb: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        with pytest.raises(ReadOnlyViolation, match=r"only queries .* not " + re.escape(verb)):
            check_query(sql, dialect=dialect)


@pytest.mark.parametrize("sql", [
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) SELECT * FROM n",
    "WITH a AS (SELECT 1), b AS (SELECT 2) VALUES (1)",
    "WITH update AS (SELECT 1 AS x) SELECT x FROM update",  # a CTE named like a verb
    "VALUES (1, 'a;b')",
])
def test_queries_with_ctes_and_values_pass(sql: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        assert check_query(sql, dialect=dialect) == sql


def test_parameters_skip_strings_casts_and_dollar_quotes() -> None:
    sql = "SELECT :a, ':b', x::int, $$:c$$, :d::text, '%', :a -- :e\n"
    assert sql_parameters(sql) == ["a", "d"]
    assert to_pyformat(sql) == "SELECT %(a)s, ':b', x::int, $$:c$$, %(d)s::text, '%%', %(a)s -- :e\n"


def test_postgres_escape_strings_cannot_hide_a_statement() -> None:
    with pytest.raises(ReadOnlyViolation):
        check_query("SELECT E'\\''; DROP TABLE feeds; --'", dialect="postgresql")
    assert check_query("SELECT $$;$$", dialect="postgresql") == "SELECT $$;$$"


def test_cli_formats_and_refusal(filled: Database) -> None:
    from pipeline.cli import main

    url = _url(filled)
    runner = CliRunner()
    env = {"NEWSMON_DATABASE_URL": url, "NEWSMON_SQL_MAX_ROWS": "2"}
    out = runner.invoke(cli, ["sql", "SELECT id, title FROM articles_v ORDER BY id",
                              "--format", "json"], env=env)
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["id"] for r in rows] == [1, 2]
    assert "truncated" in out.stderr
    out = runner.invoke(cli, ["sql", "SELECT holder FROM stances_v WHERE cue = :c",
                              "--param", "c=pushback", "--format", "csv"], env=env)
    assert out.stdout.splitlines() == ["holder", "White House"]
    out = runner.invoke(cli, ["sql", "SELECT 1 AS one"], env=env)
    assert "one" in out.stdout

    # The entry point turns the refusal into one line and exit status 1.
    import sys

    argv = sys.argv
    sys.argv = ["newsmon", "sql", "DELETE FROM feeds"]
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("NEWSMON_DATABASE_URL", url)
            with pytest.raises(SystemExit) as exit_info:
                main()
    finally:
        sys.argv = argv
    assert exit_info.value.code == 1
    assert _counts(filled)["feeds"] == 5
