"""Researchers' SQL on a connection that cannot write, escape or run forever.

Layers, each enough on its own for the common case, together for the rest:

1. One statement only, and it must be a query (SELECT, WITH or VALUES). The
   check reads the SQL with sqlparse's lexer, tuned per dialect, which knows
   strings, quoted names and comments: a ``;`` inside ``'a;b'`` is not a
   split and ``SELECT 1; DROP TABLE x`` is; ``WITH x AS (...) DELETE`` is
   named as such. It is an early, clear error, not the guard: 2 and 3 are.
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

import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy.engine import make_url
from sqlparse import keywords
from sqlparse import tokens as T
from sqlparse.lexer import Lexer
from sqlparse.sql import Statement, Token

from storage.errors import ReadOnlyViolation, StorageError

# "WITH" alone: the main statement was not found (e.g. after a SEARCH clause);
# the database guards below decide, as for any query.
QUERY_VERBS = ("SELECT", "VALUES", "WITH ... SELECT", "WITH ... VALUES", "WITH")

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
    statements = _statements(sql, dialect)
    if not statements:
        raise ReadOnlyViolation("no SQL statement given", reason="read_only")
    if len(statements) > 1:
        raise ReadOnlyViolation(
            f"only one statement is allowed; found {len(statements)}", reason="read_only"
        )
    verb = statement_verb(statements[0])
    if verb not in QUERY_VERBS:
        raise ReadOnlyViolation(
            f"only queries (SELECT, WITH, VALUES) are allowed, not {verb or '?'}",
            reason="read_only",
        )
    return str(statements[0]).strip()


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


# --- statements and parameters, read with sqlparse's lexer ------------------
#
# sqlparse.split() is not used as is: its splitter follows procedure blocks,
# so a column named ``begin`` hides a ``;`` from it, and its default lexer
# reads MySQL (``\'`` escapes in every string, ``# `` comments), which would
# hide ``SELECT 'a\'; DELETE ...`` on both our databases. So each dialect gets
# its own Lexer instance (sqlparse's rules minus those two dialects do not
# have) and a statement ends at every ``;`` token: a query has no blocks.

_NOT_SQLITE_OR_POSTGRES = {
    # MySQL '# ' comments (and hints): '#' is an operator in PostgreSQL.
    r'(--|# )\+.*?(\r\n|\r|\n|$)': r'--\+.*?(\r\n|\r|\n|$)',
    r'(--|# ).*?(\r\n|\r|\n|$)': r'--.*?(\r\n|\r|\n|$)',
    # A backslash escapes nothing in standard strings and quoted names.
    r"'(''|\\'|[^'])*'": r"'(''|[^'])*'",
    r'"(""|\\"|[^"])*"': r'"(""|[^"])*"',
    r'(""|".*?[^\\]")': None,
    r"´(´´|[^´])*´": None,
}
_NOT_POSTGRES = {
    r"`(``|[^`])*`": None,  # SQLite accepts MySQL `names`, PostgreSQL does not
    r'(?<![\w\])])(\[[^\]\[]+\])': None,  # SQLite [names]; PostgreSQL array subscripts
}
# PostgreSQL E'...' strings do honour backslashes: E'\'' is one quote.
_E_STRING = (r"(?<![\w$])E'(''|\\.|[^'\\])*'", T.String.Single)

_Rules = dict[str, str | None]


def _dialect_lexer(changes: tuple[_Rules, ...], extra: tuple[tuple[str, Any], ...]) -> Lexer:
    rules = list(extra)
    unused = {rx for change in changes for rx in change}
    for regex, ttype in keywords.SQL_REGEX:
        for change in changes:
            if regex in change:
                unused.discard(regex)
                regex = change[regex]
                break
        if regex is not None:
            rules.append((regex, ttype))
    if unused:  # fail at import rather than quietly lex like MySQL again
        raise RuntimeError(f"sqlparse changed its lexer rules: {sorted(unused)} are gone")
    lexer = Lexer()  # not the shared default instance, which other code may use
    lexer.default_initialization()  # sqlparse's keyword tables
    lexer.set_SQL_REGEX(rules)
    return lexer


_LEXERS = {
    "sqlite": _dialect_lexer((_NOT_SQLITE_OR_POSTGRES,), ()),
    "postgresql": _dialect_lexer((_NOT_SQLITE_OR_POSTGRES, _NOT_POSTGRES), (_E_STRING,)),
}


def _tokens(sql: str, dialect: str) -> list[Token]:
    return [Token(ttype, value) for ttype, value in _LEXERS[dialect].get_tokens(sql)]


def _meaningful(token: Token) -> bool:
    return not (token.is_whitespace or token.ttype in T.Comment)


def _statements(sql: str, dialect: str) -> list[Statement]:
    """The statements in ``sql``, each without its ``;``; empty ones dropped."""
    statements, current = [], []
    for token in [*_tokens(sql, dialect), Token(T.Punctuation, ";")]:
        if not token.match(T.Punctuation, ";"):
            current.append(token)
            continue
        if any(_meaningful(t) for t in current):
            statements.append(Statement(current))
        current = []
    return statements


def split_statements(sql: str, *, dialect: str = "sqlite") -> list[str]:
    """The statements in ``sql``, split at top-level ``;``; empty ones dropped."""
    return [str(statement).strip() for statement in _statements(sql, dialect)]


def statement_verb(statement: Statement) -> str:
    """What the statement does: ``SELECT``, ``DELETE``, ``WITH ... DELETE`` ('' if unsure)."""
    first = statement.token_first(skip_cm=True)
    if first is None or not (first.is_keyword or first.ttype is T.Name):
        return ""  # e.g. "(SELECT 1)"
    if first.ttype is not T.Keyword.CTE:
        return first.value.upper()  # a Name too: sqlparse knows no PRAGMA
    # Statement.get_type() misreads "AS MATERIALIZED (...)" and "WITH ... VALUES",
    # so take the first DML keyword that follows a closing ')' outside parentheses:
    # the main statement after the last CTE body.
    depth, previous = 0, first
    for token in statement.tokens[statement.token_index(first) + 1:]:
        if not _meaningful(token):
            continue
        if depth == 0 and previous.match(T.Punctuation, ")") and (
                token.ttype is T.Keyword.DML or token.normalized == "VALUES"):
            return f"WITH ... {token.normalized}"
        if token.match(T.Punctuation, "("):
            depth += 1
        elif token.match(T.Punctuation, ")"):
            depth = max(0, depth - 1)
        previous = token
    return "WITH"


def _is_param(token: Token) -> bool:
    # sqlparse marks ?, $1, %s and :name alike; only :name is ours.
    return token.ttype is T.Name.Placeholder and token.value.startswith(":")


def sql_parameters(sql: str) -> list[str]:
    """Names of the ``:name`` parameters, in order of first use."""
    names = [t.value[1:] for t in _tokens(sql, "sqlite") if _is_param(t)]
    return list(dict.fromkeys(names))


def to_pyformat(sql: str) -> str:
    """``:name`` -> ``%(name)s`` for psycopg, and every other ``%`` doubled."""
    return "".join(f"%({t.value[1:]})s" if _is_param(t) else t.value.replace("%", "%%")
                   for t in _tokens(sql, "postgresql"))


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
    if "one statement at a time" in message:  # ProgrammingError from Python 3.12
        return ReadOnlyViolation("only one statement is allowed")
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
