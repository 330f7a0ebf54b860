from __future__ import annotations


def names(analysis) -> dict[str, str]:
    return {a.name: a.type for a in analysis.actors}


def test_titles_stripped_and_surnames_linked(run) -> None:
    a = run("Secretary General Jens Stoltenberg spoke in Brussels. Later Stoltenberg said more.")
    people = [x for x in a.actors if x.type == "PERSON"]
    assert [p.name for p in people] == ["Jens Stoltenberg"]
    assert "Stoltenberg" in people[0].aliases


def test_mr_surname_links_to_gazetteer_person(run) -> None:
    a = run("Tony Blair spoke on Monday. Mr Blair said the economy was strong.")
    assert [x.name for x in a.actors if x.type == "PERSON"] == ["Tony Blair"]


def test_acronym_defined_in_text(run) -> None:
    a = run("The Equal Opportunities Commission (EOC) published a study. The EOC said pay lagged.")
    orgs = [x for x in a.actors if x.type == "ORG"]
    assert [o.name for o in orgs] == ["Equal Opportunities Commission"]
    assert "EOC" in orgs[0].aliases


def test_fuzzy_near_miss_of_gazetteer_name(run) -> None:
    a = run("The Ukraine Defense Contract Group met again. The Ramstein group agreed.")
    assert "Ukraine Defense Contact Group" in names(a)
    assert sum(1 for x in a.actors if "Group" in x.name or "group" in x.name) == 1


def test_nominal_alias_needs_its_owner(run) -> None:
    with_owner = run("NATO met on Monday. The alliance agreed to send troops.")
    nato = next(x for x in with_owner.actors if x.name == "NATO")
    assert "alliance" in nato.aliases
    without = run("The alliance agreed to send troops.")
    assert "NATO" not in names(without)


def test_not_actors(run) -> None:
    a = run("The NATO summit in July will discuss the Paris Agreement, said the secretary general.")
    assert "NATO" in names(a)
    assert not any("summit" in n.lower() or "agreement" in n.lower() for n in names(a))


def test_demonyms(run) -> None:
    a = run("European allies have stepped up. Swedish authorities dropped the case.")
    got = names(a)
    assert got.get("Europeans") == "NORP"
    assert got.get("Sweden") == "GPE"
    b = run("Ukrainian grain exports rose.")
    assert "Ukrainians" not in names(b)


def test_us_is_not_the_pronoun(run) -> None:
    a = run("Let us be clear: the US will not pay.")
    assert list(names(a)) == ["United States"]


def test_city_with_state_code_is_one_place(run) -> None:
    a = run("The debate deepened a political divide in Washington, DC, where lawmakers met. "
            "Washington said little.")
    places = [x for x in a.actors if x.type == "GPE"]
    assert [p.name for p in places] == ["Washington"]


def test_country_code_in_a_list_stays_its_own_actor(run) -> None:
    a = run("Talks between Britain, US and French officials resumed in Geneva.")
    assert {"United Kingdom", "United States"} <= set(names(a)) or \
        {"Britain", "United States"} <= set(names(a))


def test_a_place_named_only_as_a_location_is_no_actor(run) -> None:
    a = run("Talks between Kenya and Ghana resumed in Geneva on Monday.")
    assert "Geneva" not in names(a)
    assert {"Kenya", "Ghana"} <= set(names(a))


def test_a_title_place_is_no_actor_but_an_acting_one_is(run) -> None:
    a = run("Vermont Sen. Bernie Sanders criticised the plan. Later, Vermont sued the company.")
    assert "Vermont" in names(a)  # it acts in the second sentence
    b = run("Vermont Sen. Bernie Sanders criticised the plan.")
    assert "Vermont" not in names(b) and "Bernie Sanders" in names(b)


def test_an_outlet_is_an_actor_only_when_it_reports(run) -> None:
    told = run('"We will not back down," Maria Lindqvist told Reuters.')
    assert "Reuters" not in names(told)
    reported = run("Reuters reported that the ministry had cancelled the contract.")
    assert "Reuters" in names(reported)


def test_diseases_are_not_actors(run) -> None:
    a = run("COVID-19 spread quickly, and the World Health Organization warned of a second wave.")
    assert not any(n.lower().startswith("covid") for n in names(a))
