"""Benchmark: the researcher queries the view indexes and summaries exist for, at 1M rows.

    python tests/bench/bench_queries.py                 # SQLite file, 1M stances + 1M amounts
    python tests/bench/bench_queries.py --rows 200000   # quicker
    python tests/bench/bench_queries.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

Generates a database (Zipf-like actor popularity: the top actor has ~12% of
all rows; two years of articles), then times through the *_v views:

  Q1 "stances on actor X in the last 30 days"           (stances_v)
  Q2 "amounts to recipient Y by month", raw              (amounts_v)
  Q2 the same through the monthly summary                (amounts_monthly_v)

for the most popular actor (worst case) and a mid-ranked one. Baselines are
measured in the same process on the same data: for Q1 and raw Q2 the same
query with the researcher indexes dropped; for the summary, the raw Q2 with
its indexes; plus a full scan of the table (COUNT over a non-indexed column).
Prints median milliseconds and the ratios; the goal is < 100 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from storage.db import open_database  # noqa: E402
from storage.summaries import refresh_all  # noqa: E402

NOW = datetime(2026, 1, 1)
ACTORS = 2000
# The indexes the researcher migrations (0002, 0003) add; the baseline drops them.
INDEXES = {
    "stances": [("ix_stances_target_day", "target_id, day"),
                ("ix_stances_holder_day", "holder_id, day")],
    "amounts": [("ix_amounts_recipient_day",
                 "recipient_id, day, currency, value, article_id, donor_id"),
                ("ix_amounts_donor_day", "donor_id, day, currency, value, article_id, recipient_id")],
    "articles": [("ix_articles_id_dates", "id, published, discovered_at, duplicate_of, feed_id")],
}
Q1 = ("SELECT holder, polarity, cue, sentence, url, published FROM stances_v "
      "WHERE target = :name AND day >= :since ORDER BY published DESC")
Q2 = ("SELECT month, currency, SUM(value) AS total, COUNT(*) AS n FROM amounts_v "
      "WHERE recipient = :name GROUP BY month, currency ORDER BY month")
# The same question through the summary the daemon maintains (migration 0004).
Q2S = ("SELECT month, currency, SUM(total) AS total, SUM(amounts) AS n FROM amounts_monthly_v "
       "WHERE recipient = :name GROUP BY month, currency ORDER BY month")
SCAN = {"stances": "SELECT COUNT(cue) FROM stances", "amounts": "SELECT COUNT(text) FROM amounts"}


def _zipf_picker(rng: random.Random) -> list[int]:
    weights = [1 / (rank + 1) for rank in range(ACTORS)]
    return rng.choices(range(1, ACTORS + 1), weights=weights, k=200_000)


def _insert(conn: sa.Connection, table: str, rows: list[dict[str, object]]) -> None:
    # Straight to the driver's executemany: the ORM would dominate the run time.
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    columns = list(rows[0])
    sql = (f"INSERT INTO {table} ({', '.join(chr(34) + c + chr(34) for c in columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
    cursor.close()


def generate(conn: sa.Connection, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    picks = _zipf_picker(rng)
    _insert(conn, "feeds", [dict(id=i, name=f"feed {i}", url=f"https://f{i}.example/rss",
                                 tags="[]", interval_s=900.0, enabled=True, last_new_items=0,
                                 consecutive_errors=0, created_at=NOW) for i in range(1, 51)])
    _insert(conn, "actors", [dict(id=i, name=f"Actor {i}", type="ORG")
                             for i in range(1, ACTORS + 1)])
    n_articles = max(rows // 5, 1000)
    batch: list[dict[str, object]] = []
    days: list[date] = [NOW.date()]  # index = article id; rows copy their article's day
    for i in range(1, n_articles + 1):
        published = NOW - timedelta(minutes=rng.randrange(730 * 24 * 60))
        days.append(published.date())
        batch.append(dict(id=i, url=f"https://news.example/{i}", feed_id=rng.randint(1, 50),
                          title=f"Story {i}", authors="[]", published=published,
                          discovered_at=published + timedelta(minutes=5), status="extracted",
                          attempts=1, text="x" * 400, duplicate_of=None))
        if len(batch) == 20_000:
            _insert(conn, "articles", batch)
            batch = []
    if batch:
        _insert(conn, "articles", batch)
    for table in ("stances", "amounts"):
        for start in range(0, rows, 20_000):
            _insert(conn, table, [_row(table, rng, picks, days)
                                  for _ in range(start, min(rows, start + 20_000))])


def _row(table: str, rng: random.Random, picks: list[int], days: list[date]) -> dict[str, object]:
    article_id = rng.randint(1, len(days) - 1)
    base: dict[str, object] = dict(
        article_id=article_id, sentence="Some sentence with evidence in it.",
        sent_start=0, sent_end=34, start=5, end=13, confidence=0.9, extractor_version="bench",
        day=days[article_id])
    if table == "stances":
        return {**base, "holder_id": rng.choice(picks), "target_id": rng.choice(picks),
                "polarity": rng.choice(("support", "oppose")), "cue": "criticised"}
    return {**base, "text": "$5 million", "value": rng.randint(1, 10_000) * 1e5,
            "currency": rng.choice(("USD", "EUR")), "donor_id": rng.choice(picks),
            "recipient_id": rng.choice(picks)}


def timed(conn: sa.Connection, sql: str, params: dict[str, object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        conn.execute(sa.text(sql), params).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _analyze(conn: sa.Connection) -> None:
    conn.execute(sa.text("ANALYZE"))


def measure(engine: sa.Engine) -> list[tuple[str, float, float, float]]:
    since = (NOW - timedelta(days=30)).date()
    cases = [("Q1 stances on top actor, 30 days", Q1, {"name": "Actor 1", "since": since}, "stances"),
             ("Q1 stances on actor #100, 30 days", Q1, {"name": "Actor 100", "since": since},
              "stances"),
             ("Q2 amounts to top recipient by month", Q2, {"name": "Actor 1"}, "amounts"),
             ("Q2 amounts to recipient #100 by month", Q2, {"name": "Actor 100"}, "amounts")]
    with engine.connect() as conn:
        with_idx = [timed(conn, sql, p) for _, sql, p, _ in cases]
        scans = {t: timed(conn, sql, {}, repeat=3) for t, sql in SCAN.items()}
    with engine.begin() as conn:  # baseline: the same data without the 0002 indexes
        for names in INDEXES.values():
            for name, _ in names:
                conn.execute(sa.text(f"DROP INDEX {name}"))
        _analyze(conn)
    with engine.connect() as conn:
        without = [timed(conn, sql, p, repeat=3) for _, sql, p, _ in cases]
    with engine.begin() as conn:
        for table, names in INDEXES.items():
            for name, cols in names:
                conn.execute(sa.text(f"CREATE INDEX {name} ON {table} ({cols})"))
        _analyze(conn)
    rows = [(label, ms, without[i], scans[table])
            for i, ((label, _, _, table), ms) in enumerate(zip(cases, with_idx, strict=True))]
    with engine.connect() as conn:  # baseline for the summary: the raw query, indexed
        for name, raw in (("top", with_idx[2]), ("#100", with_idx[3])):
            actor = "Actor 1" if name == "top" else "Actor 100"
            ms = timed(conn, Q2S, {"name": actor})
            rows.append((f"Q2 summary view, {name} recipient", ms, raw, scans["amounts"]))
    return rows


def run(url: str, rows: int) -> None:
    db = open_database(url)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        generate(conn, rows)
    with db.session() as session, session.begin():
        refresh_all(session=session)  # what the daemon's maintenance run does
    with db.engine.begin() as conn:
        _analyze(conn)
    print(f"{db.engine.dialect.name}: generated {rows:,} stances + {rows:,} amounts "
          f"({max(rows // 5, 1000):,} articles) in {time.perf_counter() - started:.1f} s")
    print(f"{'query':<40} {'ms':>8} {'baseline ms':>15} {'ratio':>7} {'scan ms':>8} {'ratio':>7}")
    for label, ms, without, scan in measure(db.engine):
        print(f"{label:<40} {ms:8.1f} {without:15.1f} {ms / without:7.3f} {scan:8.1f} "
              f"{ms / scan:7.3f}  {'OK' if ms < 100 else 'SLOW'}")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", metavar="ADMIN_URL", help="also run on a new PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.rows)
    if args.pg:
        admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = f"newsmon_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            run(sa.engine.make_url(args.pg).set(database=name).render_as_string(False), args.rows)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
