"""Word lists are data: the extractor modules keep only closed grammatical
classes (pronouns, prepositions, dependency and entity labels) in code; every
lexical list lives in config/cues.toml or config/actors.toml."""

from __future__ import annotations

import ast
from pathlib import Path

from config.settings import Settings
from extractors.gazetteer import load_gazetteer, load_lexicon

PACKAGE = Path(__file__).resolve().parents[2] / "extractors"
# Closed classes and fixed label sets that may stay in code.
CLOSED = {
    "ACTOR_LABELS", "ACTOR_TYPES", "POLARITIES", "CUE_KINDS", "NEEDED",  # labels, settings
    "SUBJECTS", "NP_LEFT", "CLAUSE_DEPS", "NOT_TOPIC_ENTS",  # parser and NER labels
    "PRONOUNS_PERSON", "PRONOUNS_GROUP", "PRONOUNS_SPEAKER", "PRONOUNS_MALE",
    "PRONOUNS_FEMALE", "RELATIVE", "THING_PRONOUNS",
    "HOLDER_PREPS", "TARGET_PREPS", "TOPIC_PREPS", "AGENT_PREPS",  # prepositions
    "ACTING_DEPS", "SUBJECT_DEPS", "REPORTED_DEPS", "OBJECT_DEPS",  # dependency labels
    "CONTENT", "LABELS",  # part-of-speech tags; the stance classifier's classes
    "STOP_INITIALS",  # function words skipped when spelling an acronym
}


def _word_sets() -> list[str]:
    """Module-level names bound to a set, frozenset or tuple of 3+ strings."""
    found = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.Assign | ast.AnnAssign) or node.value is None:
                continue
            value = node.value
            if isinstance(value, ast.Call) and getattr(value.func, "id", "") in {"frozenset", "set"}:
                value = value.args[0] if value.args else value
            if isinstance(value, ast.Set | ast.Tuple | ast.List) and len(value.elts) >= 3 and all(
                    isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found += [f"{path.stem}.{t.id}" for t in targets
                          if isinstance(t, ast.Name) and not t.id.startswith("__")]
    return found


def test_no_lexical_word_lists_in_code() -> None:
    lexical = [name for name in _word_sets() if name.split(".")[1] not in CLOSED]
    assert lexical == [], f"move these word lists to config/*.toml: {lexical}"


def test_moved_lists_load_from_the_data_files() -> None:
    settings = Settings()
    lex = load_lexicon(settings.cues_file)
    gaz = load_gazetteer(settings.actors_file)
    for name in ("light_verbs", "proposing_verbs", "refusal_verbs", "undergo_verbs", "honorifics",
                 "money_context", "weight_verbs"):
        assert getattr(lex, name), f"cues file lacks [words] {name}"
    assert "summit" in gaz.not_actor_heads
