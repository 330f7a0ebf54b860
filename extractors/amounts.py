"""Money: every sum in the text as value and ISO 4217 currency, its period,
and who gives and who receives it (from the dependency parse).

Sums are found by one regular expression over the text (C speed, and it sees
forms the NER splits, such as "797.72-million euro" or "USD841 million"),
then aligned to tokens so the parse can find donor and recipient.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from extractors.gazetteer import Lexicon, LexiconComponent
from extractors.records import Amount
from extractors.spans import actor_in, evidence

if not Doc.has_extension("newsmon_amounts"):
    Doc.set_extension("newsmon_amounts", default=None)

SYMBOLS = {
    "us$": "USD", "u.s.$": "USD", "$": "USD", "usd": "USD", "a$": "AUD", "au$": "AUD", "aud": "AUD",
    "c$": "CAD", "ca$": "CAD", "cad": "CAD", "nz$": "NZD", "hk$": "HKD", "s$": "SGD", "r$": "BRL",
    "€": "EUR", "eur": "EUR", "£": "GBP", "gbp": "GBP", "¥": "JPY", "jpy": "JPY", "cny": "CNY",
    "chf": "CHF", "₹": "INR", "rs": "INR", "rs.": "INR", "₽": "RUB",
}
WORDS = {
    "dollar": "USD", "euro": "EUR", "pound": "GBP", "sterling": "GBP", "yen": "JPY", "yuan": "CNY",
    "renminbi": "CNY", "rupee": "INR", "rouble": "RUB", "ruble": "RUB", "franc": "CHF",
    "hryvnia": "UAH", "pence": "GBP", "p": "GBP", "cent": "USD",
}
COUNTRY_DOLLARS = {"us": "USD", "u.s.": "USD", "american": "USD", "canadian": "CAD",
                   "australian": "AUD", "new zealand": "NZD", "hong kong": "HKD", "singapore": "SGD",
                   "swiss": "CHF", "chinese": "CNY", "indian": "INR"}
SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6,
          "b": 1e9, "bn": 1e9, "bln": 1e9, "billion": 1e9, "tn": 1e12, "trn": 1e12,
          "trillion": 1e12}
SUBUNIT = {"pence": 0.01, "p": 0.01, "cent": 0.01}

_PRE = r"US\$|U\.S\.\s?\$|AU?\$|CA?\$|NZ\$|HK\$|S\$|R\$|USD|EUR|GBP|JPY|CNY|CHF|AUD|CAD|[$€£¥₹₽]" \
       r"|(?:pounds?|dollars?|euros?)(?=\s?\d)"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALE = r"(?:thousand|million|billion|trillion|mln|bln|trn|mn|bn|tn|k|m|b)\b"
_POST = (r"(?:(?:US|U\.S\.|American|Canadian|Australian|New Zealand|Hong Kong|Singapore|Swiss)\s)?"
         r"(?:dollars?|euros?|pounds?(?:\ssterling)?|sterling|yen|yuan|renminbi|rupees?|roubles?"
         r"|rubles?|francs?|hryvnias?|pence|cents?)\b|(?<=\d)p\b(?!\.?m\b)")
MONEY = re.compile(
    rf"(?<![\w$€£])(?:(?P<pre>{_PRE})\s?)?(?P<num>{_NUM})(?:[\s-]?(?P<scale>{_SCALE}))?"
    rf"(?:\s?(?:-|–|to)\s?(?:{_PRE})?\s?(?P<num2>{_NUM})(?:[\s-]?(?P<scale2>{_SCALE}))?)?"
    rf"(?:[\s-]?(?P<post>{_POST}))?",
    re.IGNORECASE,
)
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
                "a": 1, "an": 1, "several": None}
PERIOD = re.compile(
    r"\b(?:(?:over|across|during)\s(?:the\s)?(?:next|coming|following|past|last)?\s?"
    r"|in\sthe\s(?:next|coming|following)\s)"
    r"(?P<n>\d+|\w+)[\s-](?P<unit>years?|decades?|months?)\b", re.IGNORECASE)
YEARLY = re.compile(r"\b(?:a|per|each|every)\s(?P<unit>year|month)\b|\b(?P<adj>annual(?:ly)?|yearly|monthly)\b",
                    re.IGNORECASE)


def parse_money(text: str) -> tuple[float, str] | None:
    """``"$100 billion"`` -> (1e11, "USD"); None when no currency is stated."""
    m = MONEY.search(text)
    return _value(m) if m else None


def _value(m: re.Match[str]) -> tuple[float, str] | None:
    pre, post = (m.group("pre") or "").lower().replace(" ", ""), (m.group("post") or "").lower()
    if not pre and not post:
        return None
    if post == "p" and pre:
        return None
    value = float(m.group("num").replace(",", ""))
    scale = (m.group("scale") or m.group("scale2") or "").lower()
    value *= SCALES.get(scale, 1.0)
    currency = SYMBOLS.get(pre) or _word_currency(pre)
    if post:
        word_cur = _word_currency(post)
        # "US$", "A$" or "€" decide; a bare "$" yields to "Canadian dollars".
        if currency is None or (pre == "$" and word_cur and post.split()[0] in COUNTRY_DOLLARS):
            currency = word_cur
        unit = post.split()[-1].rstrip("s") if post not in ("pence", "p") else post
        value *= SUBUNIT.get(unit, 1.0)
    return (value, currency) if currency else None


def _bare_pounds(m: re.Match[str]) -> bool:
    """A sum in "pounds" written after its number with no £, GBP or sterling:
    a weight as often as money. "pounds 8bn" puts the word first, as weights
    never are, so it counts as written money."""
    pre, post = (m.group("pre") or "").lower(), (m.group("post") or "").lower()
    return not pre and post.startswith("pound") and "sterling" not in post


def _word_currency(word: str) -> str | None:
    parts = word.split()
    if not parts:
        return None
    unit = parts[-1] if parts[-1] in ("pence", "p") else parts[-1].rstrip("s")
    if unit == "sterling" or (len(parts) > 1 and parts[-1] == "sterling"):
        return "GBP"
    if unit == "dollar" and len(parts) > 1:
        return COUNTRY_DOLLARS.get(" ".join(parts[:-1]), "USD")
    return WORDS.get(unit)


def period_years(sent: Span, end_char: int, start_char: int) -> float | None:
    """The span a sum is spread over, said in its sentence after it
    ("over the next five years") or as "annual"/"a year" near it."""
    after = sent.doc.text[end_char:sent.end_char]
    m = PERIOD.search(after)
    if m and m.start() < 120:
        n = m.group("n").lower()
        count = float(n) if n.isdigit() else NUMBER_WORDS.get(n)
        if count:
            unit = m.group("unit").lower()
            return count * (10 if unit.startswith("decade") else 1 / 12 if unit.startswith("month") else 1)
    near = sent.doc.text[max(sent.start_char, start_char - 25):start_char] + " " + after[:40]
    m = YEARLY.search(near)
    if m:
        word = (m.group("unit") or m.group("adj")).lower()
        return 1 / 12 if word.startswith("month") else 1.0
    return None


@Language.factory(
    "newsmon_amounts",
    assigns=["doc._.newsmon_amounts"],
    requires=["doc.sents", "token.dep", "doc._.newsmon_actor_at"],
    default_config={"max_role_hops": 4},
)
def make_amounts(nlp: Language, name: str, *, max_role_hops: int) -> AmountFinder:
    return AmountFinder(nlp, name, max_role_hops=max_role_hops)


class AmountFinder(LexiconComponent):
    """Money mentions -> ``Amount`` records on ``doc._.newsmon_amounts``."""

    def __init__(self, nlp: Language, name: str, *, max_role_hops: int) -> None:
        self.name = name
        self.max_role_hops = max_role_hops
        self.lex = Lexicon()

    def __call__(self, doc: Doc) -> Doc:
        found = []
        for m in MONEY.finditer(doc.text):
            parsed = _value(m)
            span = doc.char_span(m.start(), m.end(), alignment_mode="expand") if parsed else None
            if span is None or not len(span):
                continue
            value, currency = parsed
            if _bare_pounds(m) and not self._money_pounds(span, m):
                continue  # "2,000-pound bombs", "weighs 200 pounds"
            donor, recipient = self.roles(span)
            sent = span.sent
            conf = 0.9 if m.group("pre") else 0.8
            found.append(Amount(m.group(0), value, currency, period_years(sent, m.end(), m.start()),
                                donor, recipient, evidence(span), conf))
        doc._.newsmon_amounts = found
        return doc

    def roles(self, span: Span) -> tuple[str | None, str | None]:
        """Donor and recipient as canonical actor names, from the parse."""
        donor = recipient = None
        chain = self._chain(span.root)
        cue = self._penalty(span, chain)
        if cue is not None:
            return self._penalty_roles(cue, chain)
        for tok in chain:
            for child in tok.children:
                if child.dep_ != "prep" or child.i in range(span.start, span.end):
                    continue
                pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                who = actor_in(pobj)
                if who and child.lower_ == "from":
                    donor = donor or who
                elif who and child.lower_ in ("to", "for") and who != donor:
                    recipient = recipient or who
        verb = next((t for t in chain if t.pos_ in ("VERB", "AUX")), None)
        if verb is not None:
            donor, recipient = self._verb_roles(verb, span, donor, recipient)
        if recipient is None:
            recipient = self._receiver(span)
        return donor, (recipient if recipient != donor else None)

    def _money_pounds(self, span: Span, m: re.Match[str]) -> bool:
        """Whether "N pounds" without £, sterling or GBP is money: never as a
        hyphenated adjective ("a 2,000-pound bomb"), a modifier of another
        noun ("a 150 pound man") or the measure of a weight verb; otherwise
        only with a money word near it ("pay", "cost", "fund" ...)."""
        doc = span.doc
        if doc.text[m.start("post") - 1: m.start("post")] == "-":
            return False
        unit = next((t for t in span if t.lower_.startswith("pound")), span.root)
        head = unit.head
        if (unit.dep_ in ("compound", "amod", "nmod") and head.pos_ in ("NOUN", "PROPN")
                and head.lemma_.lower() not in self.lex.money_context):
            return False
        chain = self._chain(unit)
        if any(t.lemma_.lower() in self.lex.weight_verbs for t in chain):
            return False
        sent = span.sent
        window = doc[max(sent.start, span.start - 6): min(sent.end, span.end + 6)]
        return any(t.lemma_.lower() in self.lex.money_context or t.lower_ in self.lex.money_context
                   for t in (*chain, *window))

    def _chain(self, tok: Token) -> list[Token]:
        chain = [tok]
        while tok.head is not tok and len(chain) <= self.max_role_hops:
            tok = tok.head
            chain.append(tok)
            if tok.pos_ in ("VERB", "AUX"):
                break
        return chain

    def _verb_roles(self, verb: Token, span: Span, donor: str | None,
                    recipient: str | None) -> tuple[str | None, str | None]:
        deps = {c.dep_: c for c in verb.children}
        subj = actor_in(deps.get("nsubj")) or _agent(verb)
        lemma = verb.lemma_.lower()
        if lemma in self.lex.give_verbs:
            dative = actor_in(deps.get("dative")) or actor_in(deps.get("iobj"))
            return donor or subj, recipient or dative
        if lemma in self.lex.receive_verbs:
            return donor, recipient or subj
        return donor, recipient

    def _penalty(self, span: Span, chain: list[Token]) -> Token | None:
        """The fine word near a sum ("a EUR 5m fine", "fines Meta $5m"), if any."""
        sent = span.sent
        window = span.doc[max(sent.start, span.start - 4): min(sent.end, span.end + 5)]
        for tok in [*chain, *window]:
            if tok.lemma_.lower() in self.lex.penalty_words or tok.lower_ in self.lex.penalty_words:
                return tok
        return None

    def _penalty_roles(self, cue: Token, chain: list[Token]) -> tuple[str | None, str | None]:
        """A fine is paid by the fined to the one who fines: "X fined Y",
        "X hit Y with a fine"; the clause's subject receives, its object pays."""
        verb = next((t for t in chain if t.pos_ == "VERB"), None)
        if verb is None and cue.pos_ == "VERB":
            verb = cue
        if verb is not None:
            deps = {c.dep_: c for c in verb.children}
            payer = actor_in(deps.get("dative")) or actor_in(deps.get("dobj"))
            payee = actor_in(deps.get("nsubj"))
            if payer or payee:
                return payer, payee
        # Headlines parse badly ("EU fines Meta $841M"): by position around the cue.
        sent = cue.sent
        before = [a for t in cue.doc[sent.start:cue.i] if (a := actor_in(t))]
        after = [a for t in cue.doc[cue.i + 1:sent.end] if (a := actor_in(t))]
        return (after[0] if after else None), (before[-1] if before else None)

    def _receiver(self, span: Span) -> str | None:
        """A purpose clause after the sum naming who gets it
        ("... to ensure Ukraine gets the aid")."""
        for tok in span.sent:
            if tok.i >= span.end and tok.lemma_.lower() in self.lex.receive_verbs:
                subj = next((c for c in tok.children if c.dep_ == "nsubj"), None)
                if subj is not None and actor_in(subj):
                    return actor_in(subj)
        return None


def _agent(verb: Token) -> str | None:
    for child in verb.children:
        if child.dep_ == "agent":
            return next((actor_in(p) for p in child.children if p.dep_ == "pobj"), None)
    return None
