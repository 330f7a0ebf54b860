"""Researchers' SQL on a connection that cannot write, escape or run forever.

Layers, each enough on its own for the common case, together for the rest:

1. One statement only, and it must be a query (SELECT, WITH or VALUES). The
   check uses a lexer that knows strings, quoted names and comments, so a
   ``;`` inside ``'a;b'`` is not a split and ``SELECT 1; DROP TABLE x`` is.
2. SQLite: the file is opened ``mode=ro``; an authorizer allows only reads
   (so a ``WITH ... DELETE`` is refused at prepare time); ATTACH is limited
   to zero databases; a progress handler stops the query at the deadline.
   VACUUM never reaches the authorizer, which is why layer 1 exists.
3. PostgreSQL: the session starts with ``default_transaction_read_only`` and
   a ``statement_timeout``, and the transaction is ``READ ONLY``; parameters
   go through the extended protocol, which refuses a second statement.
   Use a role with SELECT grants only: a superuser can still call functions
   such as ``pg_read_file``.

Parameters are bound by the driver (``:name`` in the SQL), never pasted in.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import make_url

from storage.errors import ReadOnlyViolation, StorageError

QUERY_KEYWORDS = ("select", "with", "values")

# Authorizer: everything not listed is denied.
_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
# PRAGMA is always denied, pragma_table_info() included (it also asks to
# update sqlite_master): the schema is readable with SELECT FROM sqlite_master.
_DENIED_FUNCTIONS = {"load_extension", "fts3_tokenizer"}
_PROGRESS_EVERY = 1000  # VM instructions between deadline checks (~microseconds)


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    truncated: bool  # more rows existed than max_rows
    max_rows: int


def check_query(sql: str, *, dialect: str = "sqlite") -> str:
    """The one query in ``sql`` (without its ``;``) or ReadOnlyViolation."""
    statements = split_statements(sql, dialect=dialect)
    if not statements:
        raise ReadOnlyViolation("no SQL statement given", reason="read_only")
    if len(statements) > 1:
        raise ReadOnlyViolation(
            f"only one statement is allowed; found {len(statements)}", reason="read_only"
        )
    keyword = first_keyword(statements[0], dialect=dialect)
    if keyword not in QUERY_KEYWORDS:
        raise ReadOnlyViolation(
            f"only queries (SELECT, WITH, VALUES) are allowed, not {keyword.upper() or '?'}",
            reason="read_only",
        )
    return statements[0]


def run_query(
    url: str,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    timeout: float,
    max_rows: int,
) -> QueryResult:
    """Run one read-only query against the database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        statement = check_query(sql, dialect="sqlite")
        return _run_sqlite(parsed.database or "", statement, params or {}, timeout, max_rows)
    statement = check_query(sql, dialect="postgresql")
    return _run_postgres(url, statement, params or {}, timeout, max_rows)


# --- a small SQL lexer: enough to find statement ends and parameters -------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _quoted_end(sql: str, i: int, quote_char: str, backslash: bool) -> int:
    """Index just past the quote closing the one at ``i`` (doubled quotes escape)."""
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote_char:
            if j + 1 < len(sql) and sql[j + 1] == quote_char:
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)  # unterminated: the rest is inside it


def _block_comment_end(sql: str, i: int, nested: bool) -> int:
    depth, j = 1, i + 2
    while j < len(sql) and depth:
        if sql.startswith("*/", j):
            depth, j = depth - 1, j + 2
        elif nested and sql.startswith("/*", j):
            depth, j = depth + 1, j + 2
        else:
            j += 1
    return j


def _skip(sql: str, i: int, dialect: str) -> tuple[str, int]:
    """(kind, end) of the token starting at ``i``."""
    c, pg = sql[i], dialect == "postgresql"
    if c == "'":
        # PostgreSQL E'...' strings honour backslash escapes; lexing them as
        # plain strings could hide a ';' after E'\''.
        escape = pg and i > 0 and sql[i - 1] in "eE" and (i < 2 or not _is_word(sql[i - 2]))
        return "string", _quoted_end(sql, i, "'", escape)
    if c in '"`':
        return "name", _quoted_end(sql, i, c, False)
    if c == "[" and not pg:
        end = sql.find("]", i + 1)
        return "name", len(sql) if end < 0 else end + 1
    if sql.startswith("--", i):
        end = sql.find("\n", i)
        return "comment", len(sql) if end < 0 else end + 1
    if sql.startswith("/*", i):
        return "comment", _block_comment_end(sql, i, nested=pg)
    if c == "$" and pg and (m := _DOLLAR.match(sql, i)):
        end = sql.find(m.group(0), m.end())
        return "string", len(sql) if end < 0 else end + len(m.group(0))
    if c == ":" and (m := _WORD.match(sql, i + 1)) and not sql.startswith("::", i - 1):
        return "param", m.end()
    if m := _WORD.match(sql, i):
        return "word", m.end()
    if c == ";":
        return "semicolon", i + 1
    return ("space" if c.isspace() else "other"), i + 1


def _is_word(c: str) -> bool:
    return c.isalnum() or c in "_$"


def _tokens(sql: str, dialect: str) -> Iterator[tuple[str, str]]:
    i = 0
    while i < len(sql):
        kind, end = _skip(sql, i, dialect)
        yield kind, sql[i:end]
        i = end


def split_statements(sql: str, *, dialect: str = "sqlite") -> list[str]:
    """The statements in ``sql``, split at top-level ``;``; empty ones dropped."""
    statements, current, meaningful = [], [], False
    for kind, text in _tokens(sql, dialect):
        if kind == "semicolon":
            if meaningful:
                statements.append("".join(current).strip())
            current, meaningful = [], False
            continue
        current.append(text)
        meaningful = meaningful or kind not in ("space", "comment")
    if meaningful:
        statements.append("".join(current).strip())
    return statements


def first_keyword(sql: str, *, dialect: str = "sqlite") -> str:
    """The first word of a statement, lower-cased, comments skipped ('' if none)."""
    for kind, text in _tokens(sql, dialect):
        if kind in ("space", "comment"):
            continue
        return text.lower() if kind == "word" else ""
    return ""


def sql_parameters(sql: str) -> list[str]:
    """Names of the ``:name`` parameters, in order of first use."""
    names = [text[1:] for kind, text in _tokens(sql, "sqlite") if kind == "param"]
    return list(dict.fromkeys(names))


def to_pyformat(sql: str) -> str:
    """``:name`` -> ``%(name)s`` for psycopg, and every other ``%`` doubled."""
    out = []
    for kind, text in _tokens(sql, "postgresql"):
        out.append(f"%({text[1:]})s" if kind == "param" else text.replace("%", "%%"))
    return "".join(out)


# --- SQLite --------------------------------------------------------------


def _authorizer(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _deadline_handler(timeout: float) -> Callable[[], int]:
    deadline = time.monotonic() + timeout

    def progress() -> int:
        return 1 if time.monotonic() > deadline else 0  # non-zero interrupts the query

    return progress


def connect_sqlite_readonly(path: str, *, timeout: float) -> sqlite3.Connection:
    """A connection to the SQLite file at ``path`` that can only read.

    The deadline (``timeout`` seconds) starts now and covers everything
    run on the connection; open one connection per query.
    """
    if not path or path == ":memory:":
        raise StorageError("newsmon sql needs a database file, not an in-memory database")
    uri = f"file:{quote(path)}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=min(timeout, 30.0))
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {path} read-only: {exc}") from exc
    conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    conn.set_authorizer(_authorizer)
    conn.set_progress_handler(_deadline_handler(timeout), _PROGRESS_EVERY)
    return conn


def _run_sqlite(path: str, sql: str, params: Mapping[str, Any], timeout: float,
                max_rows: int) -> QueryResult:
    conn = connect_sqlite_readonly(path, timeout=timeout)
    try:
        cursor = conn.execute(sql, dict(params))
        rows = cursor.fetchmany(max_rows + 1)
        columns = tuple(d[0] for d in cursor.description or ())
    except sqlite3.Error as exc:
        raise _sqlite_error(exc, timeout) from exc
    except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
        raise ReadOnlyViolation(f"refused: {exc}") from exc
    finally:
        conn.close()
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows, max_rows)


def _sqlite_error(exc: sqlite3.Error, timeout: float) -> StorageError:
    message = str(exc)
    if "interrupted" in message:
        return StorageError(f"query stopped after {timeout:g} s (sql_timeout)",
                            reason="sql_timeout")
    if "not authorized" in message or "readonly" in message or "read-only" in message:
        return ReadOnlyViolation(f"refused: the query tried to write or escape ({message})")
    if "too many attached" in message:
        return ReadOnlyViolation("refused: ATTACH is not allowed")
    return StorageError(f"query failed: {message}", reason="sql_error")


# --- PostgreSQL ----------------------------------------------------------


def _run_postgres(url: str, sql: str, params: Mapping[str, Any], timeout: float,
                  max_rows: int) -> QueryResult:
    import psycopg

    parsed = make_url(url).set(drivername="postgresql")
    conninfo = parsed.render_as_string(hide_password=False)
    timeout_ms = max(1, int(timeout * 1000))
    options = (f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} "
               "-c standard_conforming_strings=on")
    try:
        with psycopg.connect(conninfo, options=options, connect_timeout=10) as conn:
            conn.read_only = True  # BEGIN READ ONLY, whatever the server default
            with conn.cursor() as cursor:
                # Always bind (even no parameters): the extended protocol
                # refuses more than one statement, a second guard after the lexer.
                cursor.execute(to_pyformat(sql), dict(params), prepare=False)
                rows = cursor.fetchmany(max_rows + 1)
                columns = tuple(d.name for d in cursor.description or ())
            conn.rollback()
    except psycopg.Error as exc:
        raise _postgres_error(exc, timeout) from exc
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows, max_rows)


def _postgres_error(exc: Exception, timeout: float) -> StorageError:
    import psycopg.errors as pe

    if isinstance(exc, pe.QueryCanceled):
        return StorageError(f"query stopped after {timeout:g} s (sql_timeout)",
                            reason="sql_timeout")
    if isinstance(exc, pe.ReadOnlySqlTransaction | pe.InsufficientPrivilege):
        return ReadOnlyViolation(f"refused: the query tried to write ({exc})")
    if isinstance(exc, pe.SyntaxError) and "multiple commands" in str(exc):
        return ReadOnlyViolation("only one statement is allowed")
    return StorageError(f"query failed: {exc}", reason="sql_error")


__all__ = ["QueryResult", "check_query", "connect_sqlite_readonly", "run_query"]
