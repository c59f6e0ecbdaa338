"""word_error_rate agrees with jiwer (dev-only) and normalises the way the speech measurements did."""

from __future__ import annotations

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interviewer.bench.speech_sim import normalize_words, number_words, word_error_rate

words = st.lists(st.sampled_from(["we", "i", "led", "the", "team", "shipped", "it"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(ref=words.filter(bool), hyp=words)
def test_matches_jiwer(ref: list[str], hyp: list[str]) -> None:
    assert word_error_rate(" ".join(ref), " ".join(hyp)) == pytest.approx(
        jiwer.wer(" ".join(ref), " ".join(hyp))
    )


@pytest.mark.parametrize(
    ("reference", "hypothesis", "expected"),
    [
        ("I led the team.", "i led the team", 0.0),
        ("We cut latency by 30%.", "we cut latency by thirty percent", 0.0),
        ("In 2019 I'm sure", "in two thousand nineteen im sure", 0.0),
        ("the cat sat on the mat", "the cat sat on mat", 1 / 6),
        ("one two", "", 1.0),
        ("", "", 0.0),
    ],
)
def test_normalised_wer(reference: str, hypothesis: str, expected: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_numbers() -> None:
    assert number_words(0) == "zero"
    assert number_words(45) == "forty five"
    assert number_words(1_200) == "one thousand two hundred"
    assert number_words(3_000_017) == "three million seventeen"
    assert normalize_words("2.5x, 1,000 users") == ["two", "point", "five", "x", "one", "thousand", "users"]
