"""Quotes through the real pipeline, on sentences written for these tests.

Each case is a pattern newsrooms use every day, not a sentence from a gold set.
"""

from __future__ import annotations

import pytest


def quotes(run, text: str) -> list[tuple[str, str, str]]:  # noqa: ANN001
    return [(q.speaker, q.kind, q.text) for q in run(text).quotes]


@pytest.mark.parametrize("text, speaker, words", [
    ('"We will not accept these terms," Maria Lindqvist said on Tuesday.',
     "Maria Lindqvist", "We will not accept these terms"),
    ('Maria Lindqvist said: "We will not accept these terms."',
     "Maria Lindqvist", "We will not accept these terms"),
    ('"The talks are over," said Tomasz Wierzbicki, the foreign minister of Poland.',
     "Tomasz Wierzbicki", "The talks are over"),
])
def test_direct_quote_and_its_speaker(run, text: str, speaker: str, words: str) -> None:  # noqa: ANN001
    assert quotes(run, text) == [(speaker, "direct", words)]


def test_a_quote_split_by_its_attribution_is_one_quote(run) -> None:  # noqa: ANN001
    found = quotes(run, '"We will act," Maria Lindqvist said, "and we will act quickly."')
    assert len(found) == 1
    speaker, kind, text = found[0]
    assert speaker == "Maria Lindqvist" and kind == "direct"
    assert "We will act" in text and "and we will act quickly" in text


def test_reported_speech_with_a_that_clause(run) -> None:  # noqa: ANN001
    found = quotes(run, "Amara Okafor said that the government would double the budget for "
                        "rural clinics next year.")
    assert found == [("Amara Okafor", "reported",
                      "the government would double the budget for rural clinics next year")]


def test_pronoun_speaker_resolves_to_the_person_before(run) -> None:  # noqa: ANN001
    text = ("Henrik Dahl arrived in Oslo on Monday. He told reporters that the agreement "
            "would be signed within weeks.")
    assert quotes(run, text) == [("Henrik Dahl", "reported",
                                  "the agreement would be signed within weeks")]


def test_according_to_names_the_speaker(run) -> None:  # noqa: ANN001
    found = quotes(run, "According to the World Bank, the economy of Ghana will grow by "
                        "five percent this year.")
    assert [(s, k) for s, k, _ in found] == [("World Bank", "reported")]
    assert "economy of Ghana will grow" in found[0][2]


def test_no_named_speaker_no_quote(run) -> None:  # noqa: ANN001
    assert quotes(run, '"The situation is under control," officials said on Friday.') == []


def test_a_quoted_paragraph_continues_the_speaker_before_it(run) -> None:  # noqa: ANN001
    text = ('"We have made a firm commitment," Lucia Ferrante said.\n\n'
            '"We will extend the programme to every region by the end of next year."')
    found = quotes(run, text)
    assert [s for s, _, _ in found] == ["Lucia Ferrante", "Lucia Ferrante"]


def test_a_fragment_inside_a_report_is_the_report(run) -> None:  # noqa: ANN001
    found = quotes(run, 'Rahul Menon said the new rules were "too little, too late" for '
                        "small farmers in the region.")
    assert [(s, k) for s, k, _ in found] == [("Rahul Menon", "reported")]
    assert found[0][2].startswith("the new rules were")


def test_offsets_point_at_the_quote(run) -> None:  # noqa: ANN001
    text = '"We will not accept these terms," Maria Lindqvist said.'
    q = run(text).quotes[0]
    assert text[q.evidence.start:q.evidence.end] == q.text
