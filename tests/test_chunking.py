"""Splitting a long article: parts are slices of the text, fit the budget, overlap, and cut at sentences."""

from __future__ import annotations

import itertools

import pytest

from summarizer.chunking import split


def words(text: str) -> int:
    return len(text.split())


ARTICLE = "\n\n".join(" ".join(f"Paragraph {p} sentence {s} says something new." for s in range(6)) for p in range(10))


def test_parts_are_slices_that_fit_and_cover_every_sentence():
    parts = split(ARTICLE, 60, words)
    assert len(parts) > 1 and all(words(part) <= 60 for part in parts)
    assert all(part in ARTICLE for part in parts)  # verbatim slices: a quote from a part is in the article
    for p in range(10):
        for s in range(6):
            assert any(f"Paragraph {p} sentence {s} " in part for part in parts)


def test_consecutive_parts_overlap_by_whole_sentences_within_the_budget():
    parts = split(ARTICLE, 60, words, overlap_tokens=14)
    for before, after in itertools.pairwise(parts):
        first_sentence = after.split(".")[0] + "."
        assert first_sentence in before  # the next part starts inside the previous one
    no_overlap = split(ARTICLE, 60, words, overlap_tokens=0)
    for before, after in itertools.pairwise(no_overlap):
        assert after.split(".")[0] + "." not in before


def test_a_paragraph_end_is_preferred_once_a_part_is_well_filled():
    parts = split(ARTICLE, 90, words)
    assert all(part.rstrip().endswith("says something new.") for part in parts)
    assert sum(part.endswith("sentence 5 says something new.") for part in parts[:-1]) >= len(parts) // 2


def test_a_sentence_longer_than_the_budget_is_cut_by_words():
    text = "Intro. " + " ".join(f"w{n}" for n in range(200)) + ". Outro."
    parts = split(text, 50, words)
    assert all(words(part) <= 50 for part in parts) and all(part in text for part in parts)
    assert "w199" in "".join(parts)


def test_short_empty_and_invalid_inputs():
    assert split("One sentence only.", 100, words) == ["One sentence only."]
    assert split("   ", 100, words) == []
    with pytest.raises(ValueError):
        split(ARTICLE, 0, words)
