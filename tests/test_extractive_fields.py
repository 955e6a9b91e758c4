"""The offline engine on news it was not written on (issue 22): figures with scale words and units, quotes
in « », „ “ and dialogue dashes, speech verbs of German, French and Spanish, topics that are nouns, key
points that do not repeat the summary. The held-out articles themselves are scored by `eval-fields`
(docs/eval.md); these are the defects found on them and on the bundled files, one test each."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.extractive import summarize
from summarizer.sources import load

EXAMPLES = Path(__file__).parent.parent / "examples"


def figures_of(text: str, **kwargs: str) -> dict[str, str]:
    return {f["value"]: f["what"] for f in summarize(text, **kwargs)["figures"]}


def quotes_of(text: str) -> dict[str, str]:
    return {q["text"]: q["speaker"] for q in summarize(text)["quotes"]}


@pytest.fixture(scope="module")
def page() -> dict:
    article = load(str(EXAMPLES / "page.html"))
    return summarize(article.text, title=article.title)


# -- figures ----------------------------------------------------------------------------------------------


def test_the_bundled_page_keeps_the_scale_word_and_cuts_what_at_a_boundary(page):
    values = {f["value"]: f["what"] for f in page["figures"]}
    assert not {"10"} & set(values) and any(v.startswith("10 million") for v in values)
    billion = next(w for v, w in values.items() if v.startswith("$3 billion"))
    assert len(billion) <= 200 and "$3 billion" in billion
    assert not billion.endswith(" to")  # the clause, not 200 characters cut before "to remain"
    assert billion.startswith("Disney has made an enormous bet")  # a clause that starts like one, not "such as…"
    for what in values.values():  # every what ends on a whole word of the article
        assert len(what) <= 200
        last = what.rstrip(".…,;:!?”\"’' ").split()[-1]
        assert last.strip("“”\"'’()") in page_text_words()


def page_text_words() -> set[str]:
    text = load(str(EXAMPLES / "page.html")).text
    return {w.strip("“”\"'’(),.;:!?") for w in text.split()} | {w.strip("“”\"'’()") for w in text.split()}


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        ("The service had more than 10 million users by Friday.", "10 million"),
        ("Disney is spending more than $3 billion on technology.", "$3 billion"),
        ("Paris a envoyé 3 000 soldats dans la région du Sahel.", "3 000"),
        ("Le séisme a fait près de 5 500 morts au Népal.", "5 500"),
        ("Los daños sumaron 1,2 millones de dólares el año pasado.", "1,2 millones"),
        ("Le chômage a atteint 30 % dans la région du nord.", "30 %"),
        ("Der Konzern verlor 2,5 Milliarden Euro im Jahr.", "2,5 Milliarden"),
    ],
)
def test_numbers_keep_their_scale_word_and_thousands_groups(sentence, value):
    text = f"{sentence} Officials gave no further details about it. The report was published on Monday."
    found = figures_of(text)
    assert any(v.startswith(value) for v in found), found
    assert not any(v.startswith(("000", "500")) or v in {"1", "2", "3", "5", "10"} for v in found), found


def test_a_range_is_one_figure_and_different_things_in_one_sentence_get_their_own_what():
    text = (
        "The 13 letters were expected to bring in anywhere from $300,000 to $600,000 at the sale. According to "
        "the Los Angeles Times, the list also includes a $391 Easter bunny costume, a $299 two-speed blender and "
        "a $12 lace thong. The auction ended on Wednesday."
    )
    found = figures_of(text)
    assert "$300,000 to $600,000" in found and "$600,000" not in found
    whats = [found[v] for v in ("$391", "$299", "$12")]
    assert len(set(whats)) == 3, whats
    assert "Easter bunny" in whats[0] and "blender" in whats[1] and "lace thong" in whats[2]


def test_a_long_sentence_gives_the_clause_of_its_figure_never_a_word_cut():
    sentence = (
        "While traditional companies have experimented with niche streaming services, such as CBS All Access "
        "and a handful of others that few people have heard of, Disney has made an enormous bet, spending "
        "more than $3 billion on technology and programming to reach the tens of millions of households "
        "that it hopes will subscribe within five years."
    )
    what = figures_of(sentence + " Analysts were divided. The shares rose.")["$3 billion"]
    assert len(what) <= 200 and "$3 billion on technology and programming" in what
    assert what.rstrip(".…").split()[-1] in sentence.split() or what.endswith(".")


# -- quotes in four languages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "quote", "speaker"),
    [
        (
            "Le ministre était à Paris jeudi. « La France est prête à envoyer des renforts », a déclaré Laurent Fabius. "
            "Il accueillait un avion à Roissy.",
            "La France est prête à envoyer des renforts",
            "Laurent Fabius",
        ),
        (
            "«Pour certains d’entre eux on est très interrogatif», a ajouté Laurent Fabius. Il accueillait à Roissy un "
            "premier avion spécial.",
            "Pour certains d’entre eux on est très interrogatif",
            "Laurent Fabius",
        ),
        (
            "Travis Tygart a exhorté l’agence à agir. « C’est une plaisanterie, une honte pour le système », a-t-il "
            "déclaré. Les réactions ne se sont pas fait attendre.",
            "C’est une plaisanterie, une honte pour le système",
            "Travis Tygart",
        ),
        (
            'Mourinho zeigte den Fans drei Finger. "Das ist eine natürliche Reaktion. Offenkundig lieben sie mich nicht", '
            "sagte Mourinho. Mal wieder hatte ihm die Abwehr geholfen.",
            "Das ist eine natürliche Reaktion",
            "Mourinho",
        ),
        (
            "Die Ministerin war in Berlin. „Wir werden das Gesetz noch in diesem Jahr ändern“, erklärte Anna Schmidt am "
            "Montag. Die Opposition protestierte.",
            "Wir werden das Gesetz noch in diesem Jahr ändern",
            "Anna Schmidt",
        ),
        (
            'El ministro viajó a Madrid. "No vamos a subir los impuestos este año", dijo Pedro Sánchez. La oposición '
            "criticó el plan.",
            "No vamos a subir los impuestos este año",
            "Pedro Sánchez",
        ),
        (
            "La presidenta habló el lunes. «Vamos a cumplir con todos los compromisos firmados», afirmó Ana Gómez. Nadie "
            "respondió.",
            "Vamos a cumplir con todos los compromisos firmados",
            "Ana Gómez",
        ),
        (
            "Pedro Gómez llegó tarde a la reunión del consejo.\n—No pienso firmar ese acuerdo con la empresa —dijo Pedro "
            "Gómez—. Es un mal negocio.\nLa reunión terminó sin acuerdo.",
            "No pienso firmar ese acuerdo con la empresa",
            "Pedro Gómez",
        ),
    ],
)
def test_quotes_in_guillemets_low_quotes_and_dashes_with_their_speakers(text, quote, speaker):
    found = quotes_of(text)
    match = next((q for q in found if q.startswith(quote)), None)
    assert match is not None, found
    assert found[match].split()[-1] == speaker.split()[-1], found


def test_topics_are_never_speech_verbs_or_stopwords():
    text = (
        "« La France est prête », a déclaré le ministre. Le ministre a ajouté que la mission durera. "
        "« Nous sommes prêts à aider », a déclaré le porte-parole. Le porte-parole a ajouté que la mission "
        "est difficile. La mission de la France commence lundi, a déclaré le ministre."
    )
    topics = summarize(text)["topics"]
    assert not {"déclaré", "ajouté", "prête", "prêts"} & set(topics), topics


def test_an_honorific_or_an_initial_does_not_cut_the_speaker_after_the_verb():
    french = (
        "Le gouvernement allemand avait appelé la population au port de la kippa. « Nous nous opposons à toute "
        "forme d’antisémitisme, qu’il vienne de droite ou de gauche », a déclaré M. Klein lors du rassemblement. "
        "La ministre était absente."
    )
    assert [s.split()[-1] for s in quotes_of(french).values()] == ["Klein"]
    english = (
        'Analysts were divided on Tuesday. "While the United States is loved and beloved in Israel, the '
        'president is not," said Robert M. Danin, a senior fellow at the Council on Foreign Relations.'
    )
    assert list(quotes_of(english).values()) == ["Robert M. Danin"]


# -- summary and key points -------------------------------------------------------------------------------


def test_key_points_do_not_repeat_the_summary(page):
    summary = page["summary"]
    for point in page["key_points"]:
        assert point["point"] not in summary, point
    assert len(page["key_points"]) >= 3


def test_a_short_article_still_has_three_key_points():
    record = summarize(
        "The council met on Monday. It approved the budget. The mayor praised the vote. Residents were not consulted."
    )
    assert len(record["key_points"]) >= 3


# -- single quotation marks (British style), found on the held-out Daily Mail articles ---------------------


def test_single_quotation_marks_when_the_article_uses_no_double_ones():
    text = (
        "Usain Bolt will compete at the World Relays in the Bahamas next month. 'I'm happy to be part of the "
        "Jamaican team. I am fit, healthy and ready to run,' said Bolt. Filipe Luis did not want to leave. "
        "Atletico hope that may give them leverage, but Luis said: ‘I’m happy at Chelsea. I want to stay at "
        "the club until the end of my contract.’ The players' union said nothing."
    )
    found = {q.rstrip(","): s.split()[-1] for q, s in quotes_of(text).items()}
    assert found.get("I'm happy to be part of the Jamaican team. I am fit, healthy and ready to run") == "Bolt"
    assert found.get("I’m happy at Chelsea. I want to stay at the club until the end of my contract.") == "Luis"
    assert len(found) == 2, found


def test_a_single_quote_continued_in_the_next_paragraph_starts_again_with_its_mark():
    text = (
        "'There's a lot of time to talk about his contract in the future,' the Barca president Josep Bartomeu "
        "told reporters. 'Luis Enrique is concentrating on La Liga and on everything he needs to do. 'He has "
        "a contract until 2016 and we are very happy with him.' Barcelona won on Saturday."
    )
    found = quotes_of(text)
    assert [q.split()[0] for q in found] == ["There's", "Luis", "He"], found
    assert set(found.values()) == {"Josep Bartomeu"}, found


def test_single_quotes_are_not_read_where_double_quotes_are_the_quotes():
    text = (
        "\"We are ready for the 'big one' and we will win it all,\" said Ana Diaz. The club's fans "
        "cheered. Rock 'n' roll was played until the players' bus left the stadium at night."
    )
    assert list(quotes_of(text)) == ["We are ready for the 'big one' and we will win it all,"] or list(
        quotes_of(text)
    ) == ["We are ready for the 'big one' and we will win it all"]


def test_commented_and_admitted_are_speech_verbs():
    text = (
        "The team list will be announced shortly. JAAA General Secretary Garth Gayle commented, 'We were extremely "
        "pleased that Usain was available for selection.' The coach admitted: 'We have not trained enough this "
        "year at all.' Nobody else spoke."
    )
    assert [s.split()[-1] for s in quotes_of(text).values()] == ["Gayle", "coach"]  # "the coach": no name given


def test_a_sentence_of_thousands_of_figures_gives_ten_each_with_a_short_what():
    text = "The totals were " + ", ".join(f"{i} people" for i in range(20000)) + ". Then more. And more."
    found = summarize(text)["figures"]
    assert [f["value"] for f in found] == [f"{i} people" for i in range(10)]
    assert all(len(f["what"]) <= 200 for f in found)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "El hombre espera su operación. “Ya no sé si me van a llamar nunca más”, dice José Vera. Nadie responde.",
            "Vera",
        ),
        (
            "La doctora habló ayer. “La situación es tremenda en todos los hospitales”, expone Carmen Flores. Fin.",
            "Flores",
        ),
        (
            "Le premier ministre était à Mopti. M. Maïga avait annoncé que le gouvernement allait « renforcer les "
            "capacités opérationnelles des forces » dans la région.",
            "Maïga",
        ),
        (
            "Die Partei tagte am Montag. „Wir werden die Reform noch in diesem Jahr beschließen“, ergänzte Anna Schmidt. "
            "Die Opposition protestierte.",
            "Schmidt",
        ),
    ],
)
def test_more_speech_verbs_of_each_language(text, speaker):
    assert [s.split()[-1] for s in quotes_of(text).values()] == [speaker]


def test_an_aide_of_a_named_person_is_not_that_person():
    text = (
        "Le ministre s’en défend. « Il n'y a pas de sujet, nous n'avons pas de dossier précis », ajoute un proche "
        "de Pierre Moscovici. L'État vient de vendre des parts."
    )
    assert list(quotes_of(text).values()) == ["un proche"]  # the role, as the article names nobody


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "Los médicos protestan. “La demora genera más listas de espera en todo el país”, apunta el presidente de la "
            "Organización Médica Colegial, Juan José Rodríguez Sendín, muy preocupado.",
            "Sendín",
        ),
        (
            "La crise continue. « Le président a ordonné la création d’une commission d’enquête », a rapporté l’agence "
            "officielle Suna, citant un décret.",
            "Suna",
        ),
        (
            "Una portavoz del departamento que dirige Ana Mato matiza que “se seguiría la tendencia iniciada hace dos "
            "años”. Nadie más habló.",
            "portavoz",  # "una portavoz": a role, not Ana Mato
        ),
    ],
)
def test_a_role_before_the_name_and_a_name_after_a_description(text, speaker):
    assert [s.split()[-1] for s in quotes_of(text).values()] == [speaker]


# -- people (issue 22, held-out-6 round) ---------------------------------------------------------------


def people_of(text: str) -> dict[str, str]:
    return {e["name"]: e["type"] for e in summarize(text)["entities"] if e["type"] == "person"}


def test_german_names_need_a_first_name_or_a_title_not_just_a_capital():
    text = (
        "Am Montag beraten die Landesvorsitzenden der Partei über die Nachfolger der Chefs Lothar Bisky und Oskar "
        "Lafontaine. Die Neue Datenbank der Partei wurde dabei nicht vorgestellt. Später sprach Herr Schulte mit der "
        "Presse über die Zukunft der Partei und die Wahl im Herbst. Auch der 62-jährige Anwalt Gregor Gysi war da."
    )
    people = people_of(text)
    assert {"Lothar Bisky", "Oskar Lafontaine", "Schulte", "Gregor Gysi"} <= set(people), people
    assert not any("Datenbank" in name or "Partei" in name for name in people)


def test_a_description_run_ending_in_a_first_name_and_surname_is_that_person():
    text = (
        "Yankee Hall of Famer Reggie Jackson sold his former home in the Bronx on Tuesday. Jackson said the house "
        "had been in his family for decades and that he was glad a new family would live there."
    )
    found = {e["name"]: e["type"] for e in summarize(text)["entities"]}
    assert found.get("Reggie Jackson") == "person"
    assert "Jackson" not in found and not any("Famer" in name for name in found), found


def test_cars_streets_captions_and_plural_speakers_are_not_people():
    text = (
        "Police said the Dodge Charger was found on Mugga Way near Red Hill on Sunday night. Analysts said the car "
        "had been stolen a week before from a garage in Canberra. Credit Mary Brown/Reuters took the photograph. "
        "Authorities have not named the driver, who fled on foot."
    )
    people = people_of(text)
    assert not {"Police", "Dodge Charger", "Mugga Way", "Red Hill", "Analysts", "Authorities"} & set(people), people
    assert not any(name.startswith("Credit") for name in people), people


def test_a_soft_hyphen_inside_a_name_does_not_cut_it():
    text = "The leaders met in Moscow on Friday. Vladi\u00admir Putin said the talks with them went well."
    assert "Vladimir Putin" in people_of(text)


# -- attribution (issue 22, held-out-6 round) ----------------------------------------------------------


def test_a_quote_split_across_paragraphs_takes_the_speaker_named_in_the_middle_one():
    text = (
        "The minister spoke for an hour.\n"
        "“We have worked for two years on this plan and it will not be abandoned now.\n"
        "“It is the right plan,” said Maria Lopez, the finance minister. “We will see the results within a year.\n"
        "“Nobody should doubt our resolve on this matter at all.”\n"
        "The opposition disagreed."
    )
    assert set(quotes_of(text).values()) == {"Maria Lopez"}


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            'The border stayed closed. "The situation remains very tense along the whole border," according to a '
            "police spokeswoman.",
            "a police spokeswoman",
        ),
        (
            'The border stayed closed. According to the spokeswoman, "the situation remains very tense along the whole '
            'border."',
            "the spokeswoman",
        ),
        (
            'The hospital was evacuated. "We moved every patient within two hours of the alarm," the spokeswoman said.',
            "the spokeswoman",
        ),
        (
            "Jane Doe, a spokeswoman for the hospital, confirmed the fire. The hospital was evacuated. "
            '"We moved every patient within two hours of the alarm," the spokeswoman said.',
            "Jane Doe",
        ),
        (
            "Barcelona president Josep Maria Bartomeu says the club are happy. 'There's a lot of time to talk about his "
            "contract in the future,' the Barca president told reporters.",
            "Josep Maria Bartomeu",
        ),
    ],
)
def test_a_role_is_the_speaker_when_nobody_is_named_and_the_one_named_with_it_when_somebody_is(text, speaker):
    assert list(quotes_of(text).values()) == [speaker]


def test_a_quote_in_reported_speech_goes_to_the_organisation_that_is_its_subject():
    text = (
        'The Foreign Office said the ambassador had been summoned over "a serious breach of the rules that govern '
        'diplomatic missions". Acme Corp said on Tuesday that the recall was "a precaution taken in the interest of '
        'every customer we serve", and shares fell.'
    )
    assert list(quotes_of(text).values()) == ["Foreign Office", "Acme Corp"]


def test_several_speakers_in_one_paragraph_and_pronouns_for_the_nearest():
    text = (
        'John Smith met Ann Lee on Monday. Smith said the talks were hard. "We are not going to accept this deal at '
        'all," he said. Lee disagreed. "It is a good deal for everyone involved here," she said. A reporter asked '
        'Lee, "Will you sign it before the end of the month?"\n"We will sign it as soon as the lawyers are done," she '
        "replied."
    )
    assert list(quotes_of(text).values()) == ["John Smith", "Ann Lee", "a reporter", "Ann Lee"]


def test_a_dotted_acronym_does_not_end_the_sentence_of_a_speech_verb():
    text = "President Obama told the U.N. General Assembly that he would seek “real breakthroughs on these two issues.”"
    assert list(quotes_of(text).values()) == ["Obama"]


def test_an_adverb_between_the_french_auxiliary_and_the_participle():
    text = (
        "Les experts avaient échoué. « Terminer sa mission dans le temps imparti était impossible », avait alors "
        "souligné l’agence Rusada. La suite est inconnue."
    )
    assert [s.split()[-1] for s in quotes_of(text).values()] == ["Rusada"]


def test_an_initial_does_not_split_a_name_and_a_possessive_is_not_a_kind():
    text = (
        "In 1991, when Prime Minister Yitzhak Shamir opposed the peace talks, President George H.W. Bush held back "
        "loan guarantees. The win has created a huge buzz around Chris Coleman's team before the final."
    )
    people = people_of(text)
    assert {"George H.W. Bush", "Chris Coleman"} <= set(people), people


def test_spanish_names_joined_by_y_and_a_preposition_before_a_name():
    text = (
        "La policía detuvo ayer a Izaskun Lesaka y Joseba Iturbe en la frontera, según fuentes de la investigación. "
        "El filósofo José Ortega y Gasset escribió sobre la frontera."
    )
    people = people_of(text)
    assert {"Izaskun Lesaka", "Joseba Iturbe", "José Ortega y Gasset"} <= set(people), people


def test_capitalised_words_written_in_lower_case_elsewhere_are_no_name():
    text = (
        "Readers can Free Sign Up for the newsletter below. The sign up is free and takes a minute, the editors "
        "said. Jane Porter, who runs the desk, said more readers had joined this year."
    )
    people = people_of(text)
    assert "Free Sign Up" not in people and "Jane Porter" in people, people


def test_the_dateline_after_a_photo_caption_and_its_credit():
    text = (
        "Photo\n\nPeacekeepers at a refugee camp in the north on Monday.\n\nCredit Jane Roe/Agence France-Presse\n\n"
        "LONDON — After nearly 20 years of hostile relations, the government plans to lift trade sanctions, officials "
        "said late Thursday.\n\nThe country is one of the poorest in the region."
    )
    assert summarize(text)["dateline"]["location"] == "LONDON"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            'Die Ermittler fanden Spuren. "Auf seinem Telefon konnten wir gelöschte Daten wiederherstellen", so '
            "Oberstaatsanwalt Klaus Berger. Der Prozess beginnt im Mai.",
            "Klaus Berger",
        ),
        (
            "Der Trainer Jürgen Klopp war zufrieden. Klopps Urteil über die Gegner: „Diese Mannschaft hat riesige "
            "Qualität und kann noch mehr.“ Dann ging er.",
            "Jürgen Klopp",
        ),
        (
            "Carmen Ruiz, presidenta de la asociación, asegura que recibe quejas cada día. “La situación es tremenda "
            "en todos los hospitales del país”, expone. Nadie respondió.",
            "Carmen Ruiz",
        ),
        (
            "Pedro Gómez lleva diez meses esperando una operación. “Ya no sé si me van a llamar nunca más para "
            "operarme”, dice este hombre de 76 años. Nadie responde.",
            "Pedro Gómez",
        ),
        (
            "La crise continue. Le secrétaire général, Antonio Guterres, avait appelé les autorités à « mener une "
            "enquête approfondie sur les morts et la violence ». Rien n'a suivi.",
            "Antonio Guterres",
        ),
        (
            "The current owner of the sign is Hall of Famer Reggie Jackson, who bought it in 2008. The 68-year-old "
            "said he wanted 'a new generation to own and enjoy this icon of the city.' Nobody bid.",
            "Reggie Jackson",
        ),
    ],
)
def test_speakers_without_a_verb_before_a_name_in_german_spanish_and_french(text, speaker):
    assert list(quotes_of(text).values()) == [speaker]


def test_a_photo_credit_and_a_body_named_after_its_country_are_no_people():
    text = (
        "Peacekeepers at a camp on Monday. (Ashraf Shazly/Agence France-Presse)\n\nPublic Health England said the "
        "advice would be published next week. Jane Porter, a nurse, said the advice was late. The North Pacific "
        "stayed calm."
    )
    found = {e["name"]: e["type"] for e in summarize(text)["entities"]}
    assert found.get("Public Health England") == "organization" and found.get("Jane Porter") == "person", found
    assert found.get("Ashraf Shazly") != "person" and found.get("North Pacific") == "location", found


def test_she_is_not_the_man_named_last():
    text = (
        "Mary Jones met the press on Monday. John Smith, her deputy, also attended the meeting in the capital. "
        '"We will not sign this deal in its current form," she said. "Nor will we walk away from it," he added.'
    )
    assert list(quotes_of(text).values()) == ["Mary Jones", "John Smith"]


# -- after held-out-6's report (these rules were written on its errors: it is no longer held out) ----------


def test_titles_first_names_and_places_in_longer_runs():
    text = (
        "National Parks Service spokesperson Bill Line said the crack was four inches long. U.S. Secretary of "
        "State Hillary Rodham Clinton said nothing. The CEO of Vail Resorts says the rich still ski. Bill Caton, "
        "president of Associated General Contractors of Alabama, said workers had left. The Marines trained at "
        "Camp Pendleton, near the National Cathedral. Opposition Leader Bill Shorten said the Bill was flawed and "
        "the Bill should be amended. Legislators said the law would help."
    )
    found = {e["name"]: e["type"] for e in summarize(text)["entities"]}
    assert {n for n, t in found.items() if t == "person"} >= {"Bill Line", "Hillary Rodham Clinton", "Bill Shorten"}
    for wrong in ("Rodham Clinton", "of Vail Resorts", "Alabama", "Bill", "Legislators", "Camp Pendleton"):
        assert found.get(wrong) != "person", (wrong, found)
    assert found.get("Camp Pendleton") == "location" and found.get("National Cathedral") == "location", found


def test_a_city_followed_by_an_apposition_and_who_is_no_speaker():
    text = (
        "Rick Pate, the owner of a landscaping company in Montgomery, lost two workers, who were in the country "
        "legally. Pate said they left last week. Montgomery has lost many workers this year."
    )
    found = {e["name"]: e["type"] for e in summarize(text)["entities"]}
    assert found.get("Montgomery") == "location", found


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            'State Department spokesman P.J. Crowley spoke on Friday. "We expect Iran to meet established norms of '
            'safe operation under full monitoring" by the IAEA, Crowley said.',
            "P.J. Crowley",
        ),
        (
            "On the mountain, tomato farmer Lana Boatwright said only eight workers came. Legislators said the law "
            'would help. "My husband and I take them to the store at night because they are afraid," she said.',
            "Lana Boatwright",
        ),
        (
            "Petra Weber organisiert den Import von Früchten. „Die Luftfrachtkosten sind um das Dreifache gestiegen“, "
            "berichtet die Kauffrau. Das verteuert die Mangos.",
            "Petra Weber",
        ),
        (
            "La Commission a présenté ses prévisions. « Les risques qui entourent nos perspectives restent élevés », "
            "prévient Valdis Dombrovskis. « Nous devrions rester attentifs aux incertitudes politiques », ajoute le "
            "politique letton.",
            "Valdis Dombrovskis",
        ),
        (
            "Lundi 6 mai, Sebastian Kurz, le chancelier autrichien, n’a pas hésité à montrer du doigt la situation "
            "transalpine, dans un long entretien accordé à un quotidien italien : « L’Italie risque de menacer "
            "l’ensemble de la zone euro. »",
            "Sebastian Kurz",
        ),
        (
            "Der Minister war zufrieden. »Wir werden die Reform noch in diesem Jahr beschließen«, sagte Anna Schmidt "
            "am Montag.",
            "Anna Schmidt",
        ),
    ],
)
def test_attributions_seen_on_held_out_6(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (
            "WASHINGTON (Aug. 13) -- Declaring the service's soul at stake, the secretary ordered a review.",
            "WASHINGTON",
        ),
        ("Hamburg. Gabi Weber und Eva Stein stehen in einer Halle auf dem Gelände des Großmarktes.", "Hamburg"),
        ("DIE ZEIT: Herr Kühnert, Sie nennen sich einen Sozialisten. Was verstehen Sie darunter?", None),
    ],
)
def test_datelines_with_a_date_in_brackets_a_full_stop_and_not_an_interviewer(text, place):
    assert summarize(text)["dateline"]["location"] == place


# -- after held-out-7's report (these rules were written on its errors: it is no longer held out) ----------


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "Eloise Parry died in April. Her mother Fiona Parry spoke out. “The drug was in her system, there was no "
            "antidote and she had taken eight,” her mother, Fiona, said in a statement.",
            "Fiona Parry",
        ),
        (
            "“No product has suffered like this one. But again, what the hell do I know?” Donald Trump said. "
            "Shares fell.",
            "Donald Trump",
        ),
        (
            "In another tweet, David Emery states, “Incredibly, some people actually think they have to put words in "
            "his mouth.” Nobody replied.",
            "David Emery",
        ),
        (
            "In a recording, Hillary Clinton can be heard saying that the attacks were ordered by Putin “because he "
            "has a personal beef against me.” The donors left.",
            "Hillary Clinton",
        ),
    ],
)
def test_attributions_seen_on_held_out_7(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}


def test_a_verb_that_opens_reported_speech_or_the_next_quote_is_not_the_previous_quotes():
    text = (
        '"We are cooperating fully with the investigation and the authorities," Holland America Line said. "We '
        'will say more when we can, and only then." FBI spokesman Moises Quinones said authorities were on the '
        'scene. "Audiences will once again feel the impact of the story." Executive producer Mark Wolper added, '
        '"The story went through his family lineage and now rests with me."'
    )
    speakers = list(quotes_of(text).values())
    assert speakers[1] != "Moises Quinones" and speakers[2] != "Mark Wolper" and speakers[3] == "Mark Wolper", speakers


def test_hotels_hospitals_tech_desks_and_follow_lines_are_no_people():
    text = (
        "Clinton spoke at Manhattan's Plaza Hotel on Thursday. Eloise Parry was taken to the Royal Shrewsbury "
        "hospital on Sunday. Lucas Nolan is a reporter for Breitbart Tech covering free speech.\n"
        "Follow Jefferson Graham on Twitter."
    )
    found = {e["name"]: e["type"] for e in summarize(text)["entities"]}
    for wrong in ("Plaza Hotel", "Royal Shrewsbury", "Breitbart Tech"):
        assert found.get(wrong) != "person", (wrong, found)
    assert not any(name.startswith("Follow") for name in found), found


# -- after held-out-8a's report (the Postlight half of held-out-8; held-out-8b was never read) ---------------------


def kinds_of(text: str) -> dict[str, str]:
    return {e["name"]: e["type"] for e in summarize(text)["entities"]}


def test_a_title_or_day_after_a_name_is_not_part_of_it_and_a_surname_that_is_a_title_is_kept():
    found = kinds_of(
        "Vector Space Systems CEO Jim Cantrell said the launch was delayed. Cantrell told CBS Monday that the "
        "company would try again. Former Prime Minister John Major said he was surprised. Associate Supt. Earl "
        "Perkins said the buses were turned around."
    )
    assert found.get("Vector Space Systems") == "organization" and found.get("Jim Cantrell") == "person", found
    assert found.get("CBS") == "organization" and "CBS Monday" not in found, found
    assert found.get("John Major") == "person", found
    assert not any(name.startswith("Associate") and kind == "person" for name, kind in found.items()), found


def test_a_name_of_an_organisation_is_two_entities():
    found = kinds_of(
        "Alexandra Olgin of South Carolina Public Radio reports from the courthouse. Olgin said the jury was out."
    )
    assert found.get("Alexandra Olgin") == "person", found
    assert found.get("South Carolina Public Radio") == "organization", found


def test_ap_state_abbreviations_peoples_and_bodies_named_by_a_plural():
    found = kinds_of(
        "The shooting happened in Charleston, S.C., last year. Native Americans gathered at the river. "
        "The rocket was built by Orbital Sciences, which said the Catawba Nation was not consulted. "
        "New York City officials said nothing."
    )
    assert found.get("S.C.") == "location", found
    assert found.get("Native Americans") != "person", found
    assert found.get("Orbital Sciences") == "organization" and found.get("Catawba Nation") == "organization", found
    assert found.get("New York City") == "location" and "York City" not in found, found


def test_a_quote_in_the_paragraph_of_an_attributed_one_is_the_same_speakers_unless_someone_else_speaks():
    same = (
        '"There is major concern amongst my members," said Jeff Eagan, president of the union chapter at the '
        "department's headquarters building in Washington. He's also a 17-year Energy employee, but was speaking "
        'in his union capacity. "I have received lots of calls, emails, messages expressing shock and dismay."'
    )
    assert set(quotes_of(same).values()) == {"Jeff Eagan"}
    other = (
        'Wright said the Pentagon will "file the appropriate petition through diplomatic channels" with Russia. A '
        "year ago, a Russian jet flew within 100 feet of a plane, according to U.S. officials who called it "
        '"one of the most dangerous close passes in decades."'
    )
    assert quotes_of(other).get("one of the most dangerous close passes in decades.") != "Wright"


@pytest.mark.parametrize(
    "text, speaker",
    [
        (
            "Le juge a assisté à la réception. « Même si on peut croire que le juge n’a eu aucune conversation, il "
            "ne doit pas se placer dans une situation difficile », dit André Lareau, professeur à l’Université Laval.",
            "André Lareau",
        ),
        (
            "« Dans les trois cas, il y aura un examen du Conseil sur les allégations », a mentionné le directeur "
            "général du Conseil, Norman Sabourin.",
            "Norman Sabourin",
        ),
        (
            "Die Forscherin Liming Cai arbeitet in Texas. »Die horizontal übertragenen Gene dienen uns als "
            "DNA-Fossilien«, beschreibt Cai den Forschungsansatz.",
            "Liming Cai",
        ),
    ],
)
def test_french_and_german_present_tense_speech_verbs(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}


# -- after held-out-8b's report (read once held-out-9 was annotated to take its place as the unread batch) ------------


def test_companies_movements_storms_and_multiword_places_are_typed_as_such():
    found = kinds_of(
        "Amnesty International said the trial was unfair. The Islamist Muslim Brotherhood was banned. Islamists "
        "were arrested. Islamic State claimed the attack. Hurricane Sandy flooded the subway in 2012. The United "
        "Kingdom and the U.S. signed. New Yorkers stayed home. Whole Foods said its prices fell."
    )
    assert found.get("Amnesty International") == "organization", found
    assert found.get("Islamic State") == "organization" and found.get("United Kingdom") == "location", found
    for wrong in ("Islamists", "Hurricane Sandy", "New Yorkers", "Whole Foods", "Islamist Muslim Brotherhood"):
        assert found.get(wrong) != "person", (wrong, found)


def test_a_sentence_opening_adverb_and_a_french_elided_article_are_no_names():
    found = kinds_of("The report was clear. Additionally, the levels of assistance are lower than elsewhere.")
    assert "Additionally" not in found, found
    french = kinds_of("L’utilisation des IMSI-catchers inquiète la CNIL. Laure de la Raudière a voté contre.")
    assert not any(name.startswith("L’utilisation") for name in french), french


@pytest.mark.parametrize(
    "text, speaker",
    [
        (
            "Leftist figures oppose the movement. “Ennahda is responsible for the current deterioration of the "
            "situation, because they were careless” while they were in power, Lotfi Azzouz said.",
            "Lotfi Azzouz",
        ),
        (
            "The leader of Ennahda, Rachid Ghannouchi, condemned Wednesday’s attack, saying in a statement that it "
            "“will not break our people’s will and will not undermine our revolution.”",
            "Rachid Ghannouchi",
        ),
        (
            "“Prices will fall again this year,” said Wade Bassi, a buyer. The combination has been steady, said Tom "
            "Forte, who follows Amazon. In a few more years, he said, “You won’t recognize the original store.”",
            "Tom Forte",
        ),
        (
            "In the process he put up a flag – “igniting,” as Reuters reported, “fears of a jihadist attack in the "
            "heart of the country’s biggest city.”",
            "Reuters",
        ),
    ],
)
def test_attributions_seen_on_held_out_8b(text, speaker):
    quotes = quotes_of(text)
    assert list(quotes.values())[-1] == speaker, quotes


def test_a_day_and_a_month_in_french_spanish_and_german_are_no_figures():
    values = list(figures_of("Le texte a été voté le 5 mai par 438 députés. El 3 de mayo llegaron 300 personas."))
    assert not any(v.startswith(("5", "3 ")) for v in values) and "438 députés" in values, values


def test_an_article_in_capitals_has_no_entities_and_says_why():
    from summarizer import Summarizer

    text = (
        "POLICE SAY A MAN WAS ARRESTED IN LONDON ON MONDAY AFTER A FIRE AT A WAREHOUSE. THE FIRE BRIGADE SAID 40 "
        'FIREFIGHTERS ATTENDED. "IT WAS TERRIFYING," SAID RESIDENT JANE DOE. THE MAN WAS RELEASED ON BAIL LATER.'
    )
    result = Summarizer(engine="extractive").summarize(text)
    assert result.summary.entities == []  # was "FIRE BRIGADE SAID", "FIREFIGHTERS ATTENDED"… as organisations
    assert any("written in capitals" in w for w in result.meta.warnings), result.meta.warnings
    assert kinds_of("Police arrested John Smith in London on Monday. NASA said nothing.")  # mixed case: names


def test_a_run_on_quote_stops_before_the_photo_caption_it_swallowed():
    """The Daily Mail's paragraphs run together in its text, its captions ending in a spaced full stop."""
    text = (
        "Boss Nigel Pearson has urged Leicester to keep their cool. 'We need to make sure our own run-in is what we "
        "want it to be. Leicester manager Nigel Pearson has urged his players to focus on their own job during the "
        "run-in . It's great when results go your way,' he said."
    )
    quotes = quotes_of(text)
    first = next(iter(quotes))
    assert first == "We need to make sure our own run-in is what we want it to be.", quotes
    assert set(quotes.values()) == {"Nigel Pearson"}, quotes


def test_a_person_named_like_a_place_word_and_a_plural_noun_opening_a_sentence():
    found = kinds_of(
        "Mayor Linda Park said the line would open in 2028. Opponents, led by councillor Tom Reed, said the money "
        "should go to buses. The concert was held in Central Park."
    )
    assert found.get("Linda Park") == "person" and found.get("Central Park") == "location", found
    assert found.get("Opponents") != "person", found


# -- after held-out-9's report (read once held-out-10 was annotated to take its place as the unread batch) ---------


def test_a_surname_is_its_persons_before_it_is_a_first_word_of_something_else():
    found = kinds_of(
        "Donald Trump met Mitt Romney at Trump Tower on Tuesday. Trump said the talks went well. Romney said "
        "nothing. Later Trump tweeted about Romney for the State Department."
    )
    assert found.get("Donald Trump") == "person" and "Trump" not in found, found
    assert found.get("Mitt Romney") == "person" and found.get("Romney") is None, found


def test_an_elect_title_an_initial_and_a_name_of_a_people_are_read_as_such():
    found = kinds_of(
        "President-elect Donald Trump will meet the board. “It is very much something to worry about,” said "
        "C. Eugene Steuerle, a fellow at the Urban Institute. The ranger Jamie Werner of Ngātiwai attended the "
        "beaching. Steuerle said so."
    )
    assert "President-elect" not in found and found.get("Donald Trump") == "person", found
    assert found.get("C. Eugene Steuerle") == "person" and "C." not in found, found
    assert found.get("Jamie Werner") == "person" and "Jamie Werner of Ngātiwai" not in found, found


def test_bodies_days_streets_works_and_page_furniture_are_no_people():
    found = kinds_of(
        "Last week the US Food and Drug Administration issued a warning. He spoke to the Republican Jewish "
        "Coalition before Holocaust Remembrance Day. The first sign lit a barbershop on Paris’s Boulevard "
        'Montmartre. Fans say "Super Mario Run" is fun. Continue Reading below. See Featured Slide Shows. '
        "- Above, the skull of a whale. The Data Retention Bill passed. Labor leader Bill Shorten said it was wrong."
    )
    for name in (
        "Drug Administration",
        "Jewish Coalition",
        "Holocaust Remembrance Day",
        "Boulevard Montmartre",
        "Mario Run",
        "Continue Reading",
        "Featured Slide Shows",
        "Above",
        "Data Retention Bill",
    ):
        assert found.get(name) != "person", (name, found)
    assert found.get("Bill Shorten") == "person", found
    assert found.get("Boulevard Montmartre") == "location", found


def test_the_list_of_fifteen_names_people_before_places_passed_through():
    cities = (
        "Paris",
        "Berlin",
        "Madrid",
        "Rome",
        "Vienna",
        "Prague",
        "Warsaw",
        "Lisbon",
        "Dublin",
        "Brussels",
        "Amsterdam",
        "Athens",
        "Budapest",
        "Copenhagen",
    )
    places = " ".join(f"The convoy passed through {p} twice, then {p} again." for p in cities)
    people = " ".join(
        f"{n} said the road was closed."
        for n in ("Ahmad Shah", "Mina Karimi", "Omar Nazari", "Laila Haidari", "Tom Baker")
    )
    found = summarize(places + " " + people)["entities"]
    kinds = [e["type"] for e in found]
    assert len(found) == 15 and kinds.count("person") == 5, found
    assert kinds[:5] == ["person"] * 5, found  # each named once, each before the places named three times


def test_a_quoted_name_a_group_letter_a_festival_a_singer_called_day_and_two_kims_are_read_as_before():
    """What the rules above must not take: an outside review's cases."""
    found = kinds_of(
        "Senator Elizabeth Warren criticized the bank. “If Elizabeth Warren, or anyone, wants to regulate us, fine,” "
        "the CEO said. “Under Boris Johnson’s plan, families will pay more,” Prime Minister Boris Johnson said. "
        "England finished top of Group C. Harry Kane scored twice. Fans went to the Reading Festival. "
        "Singer Andra Day performed. North Korean leader Kim Jong Un met CIA official Andrew Kim. "
        "“We will never give up our weapons,” Kim said."
    )
    assert found.get("Elizabeth Warren") == "person" and found.get("Boris Johnson") == "person", found
    assert found.get("Harry Kane") == "person" and not any("Group C" in n for n in found), found
    assert found.get("Reading Festival") == "event" and found.get("Andra Day") == "person", found
    assert found.get("Kim Jong Un") == "person" and found.get("Andrew Kim") == "person", found


# -- after held-out-10's report (read once held-out-11 was annotated to take its place as the unread batch) --------


@pytest.mark.parametrize(
    "text, speaker",
    [
        (  # a role with its abbreviation earlier: "Indiana Gov. Eric Holcomb" is "the Republican governor"
            "Indiana Gov. Eric Holcomb will sign the budget, Holcomb said at a news conference.\n"
            "“It is a generational impact budget,” the Republican governor said.",
            "Eric Holcomb",
        ),
        (  # the text says "he" of Lindsey Graham, whatever the census says of "Lindsey"
            "South Carolina Sen. Lindsey Graham brokered a peace between Trump and Georgia Gov. Brian Kemp, whose feud "
            "threatened the party. Graham told The Associated Press he was worried.\n"
            "“Trump was up 5 or 6 points, and all over the course of a month it’s competitive,” he said.",
            "Lindsey Graham",
        ),
        (  # the age and home town of the press are no speaker
            "Fellow protester, mechanical engineer Richard Weir, 60, from Tynemouth, North Tyneside, said: “I started "
            "my career in the shipyards of Tyneside and watched the collapse.”",
            "Richard Weir",
        ),
        (  # a person of a paper, not the paper
            'Rebecca English of the Daily Mail recalled: "I was there at the time and witnessed Meghan turn on a '
            'member of her entourage."',
            "Rebecca English",
        ),
        (  # a pronoun, then an adverb, then a colon
            "Nvidia chief Jensen Huang spoke in Dubai. He then told these leaders, who were gathered there, what he "
            "would do: “The first thing that I would do, of course, is codify the language.”",
            "Jensen Huang",
        ),
        (  # "…against Dershowitz, saying she": she, not the man she names
            "In 2009, one of Epstein's victims, Virginia Giuffre, filed a lawsuit saying he had flown her around.\n"
            "In 2022, she withdrew her allegations against Alan Dershowitz, saying she “may have made a big mistake "
            "in naming him.”",
            "Virginia Giuffre",
        ),
    ],
)
def test_attributions_seen_on_held_out_10(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}, quotes_of(text)


def test_places_caucuses_papers_slogans_and_peoples_seen_on_held_out_10():
    found = kinds_of(
        "Jane Roe moved from Palo Alto to Nova Scotia. The Freedom Caucus met as Business Insider reported. "
        "Protesters chanted Free Palestine, and Just Stop Oil activists threw soup. A Native American elder and a "
        "New Jerseyan spoke. House Minority Leader Hakeem Jeffries said no. Its alumni include Leonard Cohen and "
        "Stockwell Day. On Election Day, one of the victims, Virginia Giuffre, filed a lawsuit. Afghan President "
        "Ashraf Ghani spoke."
    )
    assert found.get("Palo Alto") == "location" and found.get("Nova Scotia") == "location", found
    assert found.get("Freedom Caucus") == "organization" and found.get("Business Insider") == "organization", found
    for name in ("Free Palestine", "Stop Oil", "Native American", "New Jerseyan", "House Minority", "Election Day"):
        assert found.get(name) != "person", (name, found)
    # Stockwell Day stays an event ("Flag Day", "Groundhog Day" are days, and nothing tells his name from theirs)
    for name in ("Hakeem Jeffries", "Virginia Giuffre", "Ashraf Ghani"):
        assert found.get(name) == "person", (name, found)


@pytest.mark.parametrize(
    "text, speaker",
    [
        (  # "Von der Leyen" is one name, and Ursula von der Leyen's
            "La presidenta de la Comisión, Ursula von der Leyen, escribió a los líderes.\n"
            "“Este es un conjunto de soluciones europeas para un desafío europeo”, dice Von der Leyen.",
            "Ursula von der Leyen",
        ),
        (  # "según X" is "according to X"
            "El juez Ángel Hurtado mantiene la imputación del fiscal general.\n"
            "Según Hurtado, “se trata de testimonios que no aportan datos objetivos”.",
            "Ángel Hurtado",
        ),
        (  # an epithet and the one it is said to: not Verstappen
            'Nada más cruzar la meta, llegó el mensaje del equipo. "El karma es algo maravilloso. Hoy no has '
            'conducido despacio", espetó el ingeniero de pista a Max Verstappen.',
            "el ingeniero",
        ),
        (  # an epithet before the name it describes is the name (a guard: the rule above must not take it)
            "« L’économie européenne tient bon face à une conjoncture mondiale moins favorable », a prévenu le "
            "commissaire à l’économie Pierre Moscovici.",
            "Pierre Moscovici",
        ),
    ],
)
def test_spanish_and_french_attributions_seen_on_held_out_10(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}, quotes_of(text)


def test_the_held_out_10_rules_leave_alone_what_an_outside_review_tried():
    """Cases an outside review found the first version of the rules above getting wrong."""
    found = kinds_of(
        "UN Secretary-General Ban Ki-moon said the talks had failed. The Free Press reported it. Flag Day and "
        "Groundhog Day came. He flew to Paris Orly and saw India Gate. Paris Hilton came. Protester Jane Doe, 34, "
        "of Greenpeace, spoke."
    )
    assert found.get("Ban Ki-moon") == "person" and found.get("Free Press") == "organization", found
    assert found.get("Flag Day") == "event" and found.get("Groundhog Day") == "event", found
    assert found.get("Paris Orly") != "person" and found.get("India Gate") != "person", found
    assert found.get("Paris Hilton") == "person" and found.get("Greenpeace") != "location", found


@pytest.mark.parametrize(
    "text, speaker",
    [
        (  # "she" after a man's name is someone else: the census's sex stands when the text disagrees
            "Detective John Ward said she had been stabbed 14 times. Ward said she died at the scene.\n"
            '"This was a brutal and senseless attack on a young woman," he said.',
            "John Ward",
        ),
        (
            "Sen. Susan Collins and Sen. Joe Manchin met. Collins said he had promised to back the bill.\n"
            '"We will get this done for the people of Maine," she said.',
            "Susan Collins",
        ),
        (  # a role of a body named in the description is not the abbreviated title of someone else
            "Rep. Jim Jordan questioned Boeing officials.\n"
            '"We take safety very seriously in every plane we build," the Boeing representative said.',
            "the Boeing representative",
        ),
        (  # "Lt. Gov." holds no "Gov."
            "Gov. Greg Abbott and Lt. Gov. Dan Patrick spoke on Monday.\n"
            '"We will secure the border for every Texan family," the governor said.',
            "Greg Abbott",
        ),
        (  # two senators: which one? As written
            "Sen. Joe Manchin and Sen. Kyrsten Sinema opposed the bill.\n"
            '"This bill is simply too expensive for the country," the senator said.',
            "the senator",
        ),
    ],
)
def test_role_and_pronoun_speakers_the_review_tried(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}, quotes_of(text)


# -- after held-out-11's report (read once held-out-12 was annotated to take its place as the unread batch) --------


@pytest.mark.parametrize(
    "text, speaker",
    [
        (  # a kinship after a possessive: his mother, not him
            "Donna Kelce has praised the album. Speaking at a summit, Travis Kelce‘s mom confirmed, “I listened to "
            "the whole album, and I listened to it all morning long.”",
            "Donna Kelce",
        ),
        (  # a city and a lowercase role before the name: the name
            "“It was a terrible night, and there had never been anything like it,” said Kyiv resident Svitlana "
            "Onofryichuk, 55, who worked in the market.",
            "Svitlana Onofryichuk",
        ),
        (  # "according to X," right before the quote outranks a verb earlier in the sentence
            "First, Google is now on record saying that the change is, according to Google Search lead Liz Reid, "
            '"truly the biggest upgrade to our iconic search box since its debut."',
            "Liz Reid",
        ),
        (  # more speech verbs and the titles of southern Africa: "Adv Tšosane emphasises"
            "The lawyer Mokitimi Tšosane is vocal about the reforms.\n"
            "“A constitution should reflect the will of the people and establish accountability,” Adv Tšosane "
            "emphasises.",
            "Mokitimi Tšosane",
        ),
    ],
)
def test_attributions_seen_on_held_out_11(text, speaker):
    assert set(quotes_of(text).values()) == {speaker}, quotes_of(text)
