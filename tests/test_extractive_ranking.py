"""The extractive engine's summary length (--sentences) and ranking method (--method), issue 22.

What users of sumy expect: N sentences, a choice of LexRank, TextRank, Luhn and lead; and a news record
whose key points never repeat its summary. The default output is the one from before these options.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from summarizer import Summarizer, extractive
from summarizer.errors import ConfigError
from summarizer.grounding import grounding_context
from summarizer.options import CallOptions
from summarizer.schemas import resolve
from summarizer.sources import Article, load
from summarizer.text import count_sentences, sentences

from .test_cli import llm_env, one_error_line, run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [ROOT / "examples" / "article.txt", ROOT / "examples" / "page.html"]
TEXT = EXAMPLES[0].read_text(encoding="utf-8")
BEFORE = json.loads((ROOT / "tests" / "fixtures" / "extractive_default.json").read_text(encoding="utf-8"))
SHORT = "The council met on Tuesday. It voted for a new tram line. Work starts in May. The mayor was pleased."


def lead(text: str, n: int) -> str:
    """The first ``n`` sentences of ``text``, as the summary has them (the first without "(CNN)")."""
    first = sentences(text)
    return " ".join([extractive._strip_lead_in(first[0]), *first[1:n]])


def news(article: Article, **options: Any) -> Any:
    """The engine's validated news result for ``article`` (as ``Summarizer`` makes it)."""
    context = grounding_context(article.text)
    return extractive.as_result(article, resolve("news"), context, time.perf_counter(), **options)


def repeated(record: Any) -> list[str]:
    """The key points that say again what the summary says word for word."""
    summary = record.summary
    return [kp.point for kp in record.key_points if kp.point in summary or kp.evidence in summary]


def test_the_default_output_of_the_examples_is_the_one_from_before(articles):
    """Recorded before --sentences and --method existed (tests/fixtures/extractive_default.json)."""
    for path in EXAMPLES:
        article = load(str(path))
        record = extractive.summarize(article.text, title=article.title, date=article.date)
        for field in ("headline", "summary", "key_points"):  # the ranking's fields (the others are other modules')
            assert record[field] == BEFORE[f"examples/{path.name}"][field], field
        result = news(article)
        assert result.summary.summary == BEFORE[f"examples/{path.name}"]["summary"]
        assert Summarizer(engine="extractive").summarize(article).summary.summary == result.summary.summary
    for n, item in enumerate(articles):
        assert extractive.summarize(item["text"])["summary"] == BEFORE[f"articles:{n}"]["summary"]


def test_sentences_sets_the_summary_length_under_every_method():
    article = load(str(EXAMPLES[0]))
    for method in extractive.METHODS:
        for n in (1, 2, 3, 5, 8):
            result = news(article, sentences=n, method=method)
            assert count_sentences(result.summary.summary) == n, (method, n)
            assert len(result.summary.key_points) >= 3 and not result.meta.warnings


def test_more_sentences_than_the_article_has_leaves_three_for_the_key_points():
    article = load(str(EXAMPLES[0]))
    units = len(sentences(article.text))
    for method in extractive.METHODS:
        result = news(article, sentences=50, method=method)
        assert count_sentences(result.summary.summary) == units - 3
        assert len(result.summary.key_points) == 3 and not repeated(result.summary)
        assert result.meta.warnings == [
            f"the article has {units} sentences: the summary has {units - 3} (50 asked), "
            "so that 3 key points are sentences not in it"
        ]


def test_lead_is_the_first_sentences_in_order(articles):
    for item in articles[:8]:
        first = sentences(item["text"])
        for n in (1, 2, 4):
            record = extractive.summarize(item["text"], sentences=n, method="lead", distinct=True)
            summary = record["summary"]
            assert count_sentences(summary) == n
            for sentence in first[1:n]:
                assert sentence in summary
            assert first[n] not in summary
            assert summary.startswith(extractive._strip_lead_in(first[0]).rstrip("."))


def test_the_methods_rank_differently_and_each_gives_a_valid_news_record(articles):
    differ = 0
    for item in [*articles[:6], {"text": load(str(EXAMPLES[0])).text}]:
        article = Article(text=item["text"])
        summaries = {method: news(article, method=method).summary.summary for method in extractive.METHODS}
        differ += len(set(summaries.values())) >= 3
        for method in extractive.METHODS:  # deterministic
            assert news(article, method=method).summary.summary == summaries[method]
    assert differ >= 5  # on a news story the lead and LexRank (with its lead prior) may agree; the others not


def test_textrank_and_luhn_prefer_what_the_story_keeps_coming_back_to():
    text = (
        "Officials opened the new bridge on Monday. "
        "The weather was mild and a band played for the crowd. "
        "The bridge took the bridge builders four years and cost the city 40 million dollars. "
        "Children ate ice cream near the river. "
        "Engineers say the bridge is the widest bridge in the region. "
        "A local bakery sold out of bread by noon."
    )
    bridge = [s for s in sentences(text) if "bridge" in s]
    for method in ("textrank", "luhn"):  # the three sentences about the bridge, none of the asides
        assert extractive.summarize(text, sentences=3, method=method)["summary"] == " ".join(bridge), method
    # Luhn: the densest cluster of significant words ("bridge" twice, two words between); TextRank: the sentence
    # most linked (the shortest of the three, as the similarity divides by the sentences' lengths)
    assert extractive.summarize(text, sentences=1, method="luhn")["summary"] == bridge[1]
    assert extractive.summarize(text, sentences=1, method="textrank")["summary"] == bridge[0]
    assert extractive.summarize(text, sentences=1, method="lead")["summary"].startswith("Officials opened")


@pytest.mark.parametrize("method", extractive.METHODS)
def test_key_points_never_repeat_the_summary(method, articles):
    items = [load(str(path)) for path in EXAMPLES] + [Article(text=item["text"]) for item in articles[:8]]
    for article in items:
        for n in (1, 2, 3, 5, 10):
            result = news(article, sentences=n, method=method)
            assert not repeated(result.summary), (method, n, article.text[:60])


def test_an_article_of_three_sentences_says_its_key_points_repeat_the_summary():
    result = news(Article(text="The council met on Tuesday. It voted for a new tram line. Work starts in May."))
    assert "too few for a summary and 3 key points that are not in it" in result.meta.warnings[0]


def test_a_short_article_gives_summary_sentences_up_for_three_other_key_points():
    result = news(Article(text=SHORT))
    assert count_sentences(result.summary.summary) == 1 and not repeated(result.summary)
    assert "the summary has 1 (3 asked)" in result.meta.warnings[0]


def test_the_brief_schema_has_no_summary_and_says_so():
    article = load(str(EXAMPLES[0]))
    context = grounding_context(article.text)
    spec = resolve("brief")
    plain = extractive.as_result(article, spec, context, time.perf_counter())
    assert not plain.meta.warnings
    longer = extractive.as_result(article, spec, context, time.perf_counter(), sentences=5)
    assert longer.summary == plain.summary
    assert longer.meta.warnings == ["the brief schema has no summary: --sentences 5 applies to the news schema's"]
    lead = extractive.as_result(article, spec, context, time.perf_counter(), method="lead")
    assert lead.summary.bullets != plain.summary.bullets


def test_invalid_values_are_refused():
    with pytest.raises(ConfigError, match="sentences"):
        CallOptions.build(sentences=0)
    with pytest.raises(ConfigError, match="sentences"):
        CallOptions.build(sentences=51)
    with pytest.raises(ConfigError, match="method"):
        CallOptions.build(method="sumbasic")
    with pytest.raises(ConfigError, match="unknown ranking method 'sumbasic'"):
        extractive.summarize(SHORT, method="sumbasic")


def test_the_library_takes_both_as_options_and_settings():
    article = load(str(EXAMPLES[0]))
    with Summarizer(engine="extractive") as summarizer:
        result = summarizer.summarize(article, sentences=2, method="lead")
        assert result.summary.summary == lead(TEXT, 2) and not result.meta.warnings
        assert summarizer.summarize(article, CallOptions(method="lead", sentences=1)).summary.summary == lead(TEXT, 1)
    with Summarizer(engine="extractive", sentences=2, method="lead") as summarizer:
        assert summarizer.summarize(article).summary.summary == lead(TEXT, 2)
        assert summarizer.summarize(article, sentences=1).summary.summary == lead(TEXT, 1)


def test_the_cli_summarize_and_batch_take_them(cli, tmp_path):
    article = EXAMPLES[0]
    done = run(cli, "summarize", str(article), "--method", "lead", "--sentences", "2")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"] == lead(TEXT, 2)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "text": article.read_text(encoding="utf-8")}) + "\n")
    done = run(cli, "batch", str(source), "-o", str(tmp_path / "out.jsonl"), "--method", "lead", "--sentences", "1")
    assert done.returncode == 0, done.stderr
    row = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert row["summary"]["summary"] == lead(TEXT, 1)


def test_the_cli_refuses_bad_values_in_one_line(cli):
    for flag, value in (("--method", "sumbasic"), ("--sentences", "0"), ("--sentences", "many")):
        done = run(cli, "summarize", str(EXAMPLES[0]), flag, value)
        assert done.returncode == 2 and flag in one_error_line(done), done.stderr


def test_the_settings_file_and_environment_set_them(cli, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('sentences = 1\nmethod = "lead"\n', encoding="utf-8")
    done = run(cli, "summarize", str(EXAMPLES[0]), "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"] == lead(TEXT, 1)
    shown = run(cli, "settings", "--config", str(config))
    assert "sentences" in shown.stdout and "'lead'" in shown.stdout
    done = run(cli, "summarize", str(EXAMPLES[0]), env={"SUMMARIZER_METHOD": "lead", "SUMMARIZER_SENTENCES": "2"})
    assert json.loads(done.stdout)["summary"] == lead(TEXT, 2)
    config.write_text('method = "sumbasic"\n', encoding="utf-8")
    done = run(cli, "summarize", str(EXAMPLES[0]), "--config", str(config))
    assert done.returncode == 4 and "method" in one_error_line(done)


def test_a_model_engine_says_it_does_not_take_them(make, server, cli, tmp_path):
    summarizer = make()
    result = summarizer.summarize(SHORT, sentences=5, method="luhn")
    assert result.meta.engine == "llm"
    assert [w.split(" is ")[0] for w in result.meta.warnings] == ["--sentences 5", "--method luhn"]
    again = summarizer.summarize(SHORT, sentences=5)
    assert again.meta.cached and again.meta.warnings == [
        "--sentences 5 is for the extractive engine; the model writes the summary in at most the schema's sentences"
    ]
    assert not summarizer.summarize(SHORT).meta.warnings and server.count == 1  # not part of the cache key
    article = tmp_path / "a.txt"
    article.write_text(SHORT, encoding="utf-8")
    done = run(cli, "summarize", str(article), "--method", "textrank", env=llm_env(server))
    assert done.returncode == 0 and "warning: --method textrank is for the extractive engine" in done.stderr


def test_the_service_takes_them(server, tmp_path):
    from .test_service import build, wait_for

    text = EXAMPLES[0].read_text(encoding="utf-8")
    with build(server, tmp_path, engine="extractive") as client:
        answered = client.post("/v1/summaries", json={"text": text, "method": "lead", "sentences": 2})
        assert answered.status_code == 200, answered.text
        assert answered.json()["summary"]["summary"] == lead(TEXT, 2)
        assert client.post("/v1/summaries", json={"text": text, "method": "sumbasic"}).status_code == 422
        assert client.post("/v1/summaries", json={"text": text, "sentences": 0}).status_code == 422
        job = client.post("/v1/batches", json={"items": [text], "method": "lead", "sentences": 1})
        assert job.status_code == 202, job.text
        assert wait_for(client, job.json()["id"])["options"] == {"sentences": 1, "method": "lead"}
        upload = {"file": ("in.jsonl", json.dumps({"text": TEXT}) + "\n")}
        job = client.post("/v1/batches", files=upload, data={"method": "luhn", "sentences": "2"})
        assert job.status_code == 202, job.text
        assert wait_for(client, job.json()["id"])["options"] == {"sentences": 2, "method": "luhn"}
        bad = client.post("/v1/batches", files=upload, data={"method": "sumbasic"})
        assert bad.status_code == 422, bad.text
        spec = client.get("/openapi.json").json()["components"]["schemas"]["SummaryRequest"]
        assert {"sentences", "method"} <= set(spec["properties"])


def test_lead_keeps_whole_sentences_within_the_summary_length():
    long = [
        f"Story sentence {n} tells " + "of the long council meeting on the tram line budget " * 7 + "."
        for n in range(6)
    ]
    result = news(Article(text=" ".join(long)), method="lead")
    assert result.summary.summary == " ".join(long[:2]) and not repeated(result.summary)
    assert result.meta.warnings == [
        "3 sentences run past the summary's 1,000 characters: the summary has 2, the best ranked"
    ]


def test_eval_scores_a_method_in_its_own_row(cli, articles, tmp_path):
    data = tmp_path / "refs.jsonl"
    data.write_text("".join(json.dumps({"text": a["text"], "reference": a["reference"]}) + "\n" for a in articles[:2]))
    done = run(cli, "eval", str(data), "--engine", "extractive", "--method", "lead", "--sentences", "2")
    assert done.returncode == 0, done.stderr
    assert "extractive (lead) (2 sentences)" in done.stdout


# -- what reads as a summary and a headline (read on real output: a link caption in the summary, a headline cut
#    mid-clause with "…") --------------------------------------------------------------------------------------

MIGRANTS = (
    "Rome (CNN)Italy is coping with a rising wave of desperate migrants from Africa and Middle East hoping to make "
    "it to Europe. From Friday to Monday, a total of 8,480 migrants were rescued, according to the Italian coast "
    "guard. On Tuesday, a spokesman with Save the Children told CNN the group fears 400 migrants could be missing. "
    "There has been a recent upsurge in migrant boats crossing the Mediterranean into Italy. Why migrants are dying "
    "trying to reach Italy . Italy registered more than 10,000 migrants arriving in the first three months of 2015, "
    "the IOM said. Most migrants recorded this year come from countries in West Africa as well as Somalia and Syria. "
    "They use Libya as a country of transit.\nMore migrant stories\nSometimes the captains and crews abandon the "
    "ships, leaving passengers to fend for themselves."
)


@pytest.mark.parametrize("method", ["lexrank", "textrank", "luhn"])
def test_link_captions_and_subheads_are_no_summary_sentence_or_key_point(method):
    record = extractive.summarize(MIGRANTS, method=method, distinct=True)
    chosen = [record["summary"], *(kp["evidence"] for kp in record["key_points"])]
    assert not any("Why migrants are dying" in text or "More migrant stories" in text for text in chosen), chosen
    assert len(record["key_points"]) == 5


def test_a_highlight_bullet_ending_in_a_spaced_full_stop_is_still_a_sentence():
    bullets = "Javier Hernandez is linked with a move to Orlando City after a tough loan spell at Real Madrid ."
    assert extractive._is_sentence(bullets) and not extractive._is_sentence("Why migrants are dying to reach Italy .")
    assert not extractive._is_sentence("More migrant stories")


def test_a_long_lead_gives_a_headline_cut_where_a_clause_ends_and_never_after_a_hanging_word():
    assert extractive.summarize(MIGRANTS)["headline"] == (
        "Italy is coping with a rising wave of desperate migrants from Africa and Middle East"
    )
    clause = (
        "Kaitlyn Granado, 24, was arrested on Monday amid claims she had sex with a pupil, 15, at her school in Texas."
    )
    assert extractive.summarize(clause + " " + SHORT)["headline"] == (
        "Kaitlyn Granado, 24, was arrested on Monday amid claims she had sex with a pupil"  # the last comma in reach
    )
    unbroken = (
        "Mexican restaurant Chipotle has decided to tap into the $70 billion food delivery market by partnering "
        "with a startup to bring burritos to customers' doors."
    )
    assert extractive.summarize(unbroken + " " + SHORT)["headline"] == (
        "Mexican restaurant Chipotle has decided to tap into the $70 billion food delivery market\u2026"
    )


def test_a_headline_is_never_cut_inside_a_name_nor_taken_from_a_date_line():
    long = (
        "Liverpool vice-captain Jordan Henderson thinks his side could catch Manchester City in the Barclays Premier "
        "League race for the top four places this season without their injured captain."
    )
    headline = extractive.summarize(long + " " + SHORT)["headline"]
    assert headline.endswith("\u2026") and not headline.endswith(("Premier\u2026", "Barclays\u2026")), headline
    whole = (
        "Steve Bruce is adamant he can keep Hull City in the Premier League for another season of top flight football."
    )
    assert extractive.summarize(whole + " " + SHORT)["headline"] == whole.rstrip(".")  # 20 words: whole
    stamped = "5 August 2015 Last updated at 06:36 BST\nShe's now 84 and has been telling her story for years. " + SHORT
    assert "Last updated" not in extractive.summarize(stamped)["headline"]


def test_photo_captions_and_promotions_are_no_summary_sentence_or_key_point():
    text = (
        MIGRANTS + "\nSteve Bruce (pictured) is confident he can keep Hull City in the Premier League this season .\n"
        "No clue: Local residents say they felt no tremors overnight and the land just appeared .\n"
        "Watch 'Hiroshima: A Newsround Special' - Thursday 6 August at 5.30pm on the CBBC channel.\n"
        "You can find out more about what happened in Hiroshima here."
    )
    record = extractive.summarize(text, distinct=True)
    chosen = [record["summary"], *(kp["evidence"] for kp in record["key_points"])]
    for caption in ("(pictured)", "No clue", "Watch 'Hiroshima", "You can find out more"):
        assert not any(caption in piece for piece in chosen), (caption, chosen)


def test_text_without_any_sentence_gives_an_empty_record_not_an_index_error():
    assert extractive.summarize("," * 100)["headline"] == ""


def test_a_standfirst_said_again_longer_is_not_summarised_twice():
    """Seen on a Euronews page read from the hybrid engine's answer: the standfirst and the first paragraph's
    longer telling of it were both in the summary (the longer shares 10 of its 17 terms with the shorter: under
    the 0.6 the overlap check used, counted against the longer only)."""
    text = (
        "Sweden has struggled with a surge in violence in recent years as gangs fight for control of drug markets.\n"
        "An investigation in Sweden has revealed that police employees have been leaking confidential information "
        "to gang members.\n"
        "Sweden has struggled to contain a surge in violence in recent years as criminal gangs feud for control of "
        "drug markets, with bombings and shootings recorded weekly.\n"
        "The newspaper Dagens Nyheter said that in several cases criminals had approached police officers.\n"
        "The justice minister will meet the police leadership to discuss the leaks on Tuesday.\n"
        "At least 30 police employees had been considered security risks, the newspaper reported.\n"
    )
    summary = extractive.summarize(text)["summary"]
    assert not ("struggled with a surge" in summary and "struggled to contain a surge" in summary), summary
