"""Synthetic news pages for a bare clone: the local site's stand-in for ../shared.

The real pages (``../shared/corpus/extraction/html``) are public material and
never committed. Without them the test site serves these instead: English
news-like articles written from templates with a seeded RNG, so every run
and every machine sees the same 200 distinct pages, each with boilerplate
around a main text that names actors, money and stances. Nothing here is
taken from a public source.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from functools import cache
from html import escape

COUNT = 200
EPOCH = datetime(2024, 8, 8, 12, 0, tzinfo=UTC)

_PEOPLE = ["Maria Lindqvist", "Tomasz Wierzbicki", "Amara Okafor", "Henrik Dahl", "Lucia Ferrante",
           "Rahul Menon", "Grace Whitfield", "Jonas Albrecht", "Elena Sokolova", "David Mensah",
           "Sofia Castellanos", "Kenji Watanabe"]
_BODIES = ["the European Commission", "NATO", "the World Bank", "the United Nations",
           "the African Union", "the International Monetary Fund", "the Council of Europe"]
_COUNTRIES = ["Poland", "Kenya", "Brazil", "Ukraine", "Japan", "Canada", "Norway", "Ghana",
              "Chile", "Portugal", "Vietnam", "Morocco"]
_TOPICS = ["the grain corridor plan", "the new border agreement", "the energy subsidy package",
           "the water-sharing treaty", "the defence procurement deal", "the trade accord",
           "the reconstruction fund", "the climate adaptation programme"]
_ROLES = ["foreign minister", "finance minister", "defence minister", "prime minister",
          "trade commissioner", "central bank governor"]
_SENTENCES = [
    "{person}, the {role} of {country}, said on {day} that {topic} would be signed within weeks.",
    "{body} pledged ${n} million to {country} over the next {years} years.",
    "{person} criticised {topic}, calling it rushed and poorly funded.",
    "Officials in {country} welcomed the decision by {body}.",
    "{body} has backed {topic} despite objections from {country2}.",
    "The plan has faced pushback from {person2}, who warned that costs could double.",
    "{country} agreed to lend {country2} {n} million euros for new schools and clinics.",
    "In a statement, {body} said it rejected the claims made by {person2}.",
    "Talks between {country} and {country2} resumed in the capital on {day}.",
    "{person2} praised {person} for steering {topic} through parliament.",
    "Analysts expect the vote on {topic} to be close, with several parties undecided.",
    "{country2} has opposed {topic} since it was first proposed last year.",
    "The {role} of {country2} described the offer as a starting point for negotiations.",
    "Protesters gathered outside the ministry in {country} ahead of the debate.",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def _fill(rng: random.Random, template: str) -> str:
    people = rng.sample(_PEOPLE, 2)
    countries = rng.sample(_COUNTRIES, 2)
    return template.format(
        person=people[0], person2=people[1], country=countries[0], country2=countries[1],
        body=rng.choice(_BODIES), topic=rng.choice(_TOPICS), role=rng.choice(_ROLES),
        day=rng.choice(_DAYS), n=rng.randrange(5, 900), years=rng.randrange(2, 9),
    )


@cache
def article(i: int) -> tuple[str, str, datetime]:
    """(title, body, published) of synthetic article ``i``: paragraphs split by blank lines."""
    rng = random.Random(f"newsmon-synthetic-{i}")
    paragraphs = []
    # About as long as a real news page (~600 words): extraction then takes about as
    # long as on real pages, which the crash test's kill rounds rely on.
    for _ in range(rng.randrange(12, 18)):
        picks = rng.sample(_SENTENCES, rng.randrange(2, 4))
        paragraphs.append(" ".join(_fill(rng, t) for t in picks))
    # A serial in the body keeps every page's text distinct (de-duplication is by text hash).
    paragraphs.append(f"This is report number {i} of the newsmon test wire.")
    title = _fill(rng, rng.choice(_SENTENCES)).rstrip(".")[:90]
    return title, "\n\n".join(paragraphs), EPOCH - timedelta(days=i % 40, hours=i)


def key(i: int) -> str:
    return f"synthetic-{i:03d}"


def keys() -> tuple[str, ...]:
    return tuple(key(i) for i in range(COUNT))


def index(page_key: str) -> int:
    return int(page_key.removeprefix("synthetic-"))


def html(page_key: str) -> bytes:
    title, body, published = article(index(page_key))
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
    nav = "".join(f'<li><a href="/section/{s}">{s.title()}</a></li>'
                  for s in ("world", "politics", "business", "sport", "culture"))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | Test Wire</title>
<meta property="article:published_time" content="{published.isoformat()}">
</head><body>
<header><nav><ul>{nav}</ul></nav><div class="promo">Subscribe for full access</div></header>
<main><article><h1>{escape(title)}</h1>
<p class="byline">By Test Wire staff, {published:%d %B %Y}</p>
{paras}
</article></main>
<aside><h2>Most read</h2><ul><li><a href="/a">Weather warnings</a></li><li><a href="/b">Markets</a></li></ul></aside>
<footer><p>Copyright Test Wire. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>""".encode()


def titles() -> dict[str, str]:
    return {key(i): article(i)[0] for i in range(COUNT)}
