"""The master patient index's matching policy: comparisons, scores, blocking, ranking, FEBRL."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from policies.matching import (
    FIELDS,
    MATCH_THRESHOLD,
    POLICY_VERSION,
    POSSIBLE_THRESHOLD,
    WEIGHTS,
    Demographics,
    blocking_keys,
    candidate_pairs,
    classify,
    compare_birth_dates,
    compare_codes,
    compare_given_names,
    compare_name,
    compare_names,
    compare_phones,
    compare_streets,
    find_duplicates,
    rank_candidates,
    score,
)

FEBRL = Path(__file__).resolve().parents[1] / "data" / "febrl"  # data set 1: see its README

JANE = Demographics(
    given_name="Jane",
    family_name="Harrington",
    birth_date=date(1975, 6, 12),
    sex="F",
    street="38 Maltby Circuit",
    locality="Coolaroo",
    postcode="3465",
    state="NSW",
    phone="(03) 9876 5432",
    identifier="9004242",
)


def n(**fields: object) -> Demographics:
    """JANE with some fields replaced."""
    return replace(JANE, **fields)  # type: ignore[arg-type]


def level(a: Demographics, b: Demographics, field: str) -> str:
    return score(a, b).field(field).level


def person(line: str) -> Demographics:
    """`given family yyyy-mm-dd street|locality|postcode|state|identifier` as a record."""
    head, locality, postcode, state, identifier = line.split("|")
    given_name, family, born, street = head.split(" ", 3)
    return Demographics(
        given_name=given_name,
        family_name=family,
        birth_date=date.fromisoformat(born),
        street=street,
        locality=locality,
        postcode=postcode,
        state=state,
        identifier=identifier,
    )


# -- normalisation ------------------------------------------------------------------------------


def test_normalise_folds_case_punctuation_spaces_and_accents() -> None:
    record = Demographics(
        given_name="  Mary-Ann ",
        family_name="O'Brien",
        street="12  Main St.",
        postcode="30 00",
        phone="+61 (2) 9876-5432",
        identifier="123-456-789",
        sex="Female",
    ).normalise()
    assert record.given_name == "mary ann"
    assert record.family_name == "obrien"
    assert record.street == "12 main street"
    assert record.postcode == "3000"
    assert record.phone == "61298765432"
    assert record.identifier == "123456789"
    assert record.sex == "f"
    assert Demographics(given_name="José").normalise().given_name == "jose"


def test_normalise_expands_common_nicknames() -> None:
    assert "william" in Demographics(given_name="Bill").normalise().given_names
    assert "robert" in Demographics(given_name="bob").normalise().given_names
    assert "elizabeth" in Demographics(given_name="Liz").normalise().given_names
    assert "katherine" in Demographics(given_name="Kate").normalise().given_names
    assert "james" in Demographics(given_name="Jim").normalise().given_names


# -- field comparisons --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "full"),
    [("Bill", "William"), ("bob", "Robert"), ("Liz", "Elizabeth"), ("Kate", "Katherine")],
)
def test_a_nickname_agrees_closely_with_the_full_name(short: str, full: str) -> None:
    a = Demographics(given_name=short).normalise()
    b = Demographics(given_name=full).normalise()
    assert compare_given_names(a, b)[0] == "close"
    assert compare_given_names(a, b)[2] == "nickname"
    assert score(n(given_name=short), n(given_name=full)).classification == "match"


def test_nicknames_of_different_names_do_not_agree() -> None:
    a = Demographics(given_name="Bill").normalise()
    b = Demographics(given_name="Robert").normalise()
    assert compare_given_names(a, b)[0] == "different"


def test_swapped_given_and_family_names_agree_closely() -> None:
    a = Demographics(given_name="Jane", family_name="Harrington").normalise()
    b = Demographics(given_name="Harrington", family_name="Jane").normalise()
    given_cmp, family_cmp = compare_names(a, b)
    assert given_cmp[0] == family_cmp[0] == "close"
    assert given_cmp[2] == "given and family names swapped"
    swapped = score(JANE, n(given_name="Harrington", family_name="Jane"))
    assert swapped.classification == "match"
    assert "swapped" in swapped.reason


def test_a_typo_in_a_name_agrees_closely() -> None:
    assert compare_name("harrington", "harringtno")[0] == "close"
    assert compare_name("katherine", "katherin")[0] == "close"
    assert level(JANE, n(family_name="Harringon"), "family_name") == "close"
    assert compare_name("harrington", "nguyen")[0] == "different"


def test_names_that_sound_alike_agree_closely_but_codes_alone_do_not() -> None:
    a = Demographics(given_name="Catherine").normalise()
    b = Demographics(given_name="Kathryn").normalise()
    assert compare_given_names(a, b)[:3:2] == ("close", "sounds alike")
    a = Demographics(given_name="Geoff").normalise()
    b = Demographics(given_name="Jeff").normalise()
    assert compare_given_names(a, b)[0] == "close"
    # Metaphone codes both JL, but the spelling is too far apart to count.
    a = Demographics(given_name="Joel").normalise()
    b = Demographics(given_name="Julia").normalise()
    assert compare_given_names(a, b)[0] == "different"


def test_one_shared_part_of_a_double_name_agrees_closely() -> None:
    assert compare_name("smith jones", "smith")[:3:2] == ("close", "one name is part of the other")
    shared = compare_name("anna smith", "anna kowalczyk")
    assert shared[:3:2] == ("close", "one name part in common")


def test_a_middle_name_on_one_side_and_a_typo_in_the_first_agree_closely() -> None:
    a = Demographics(given_name="Yvone Janina").normalise()
    b = Demographics(given_name="Yovne").normalise()
    assert compare_given_names(a, b)[:3:2] == (
        "close",
        "one given name spelt slightly differently",
    )
    c = Demographics(given_name="Mark").normalise()
    assert compare_given_names(a, c)[0] == "different"


def test_digits_in_names_are_ignored() -> None:
    """Synthea makes names unique with digits ("Yvone889"); no real name has them."""
    a = Demographics(given_name="Yvone889 Janina163", family_name="Cummings51").normalise()
    b = Demographics(given_name="Yvone Janina", family_name="Cummings").normalise()
    assert (a.given_name, a.family_name) == (b.given_name, b.family_name)
    assert a.family_codes == b.family_codes


@pytest.mark.parametrize(
    ("other", "note"),
    [
        (date(1975, 12, 6), "day and month transposed"),
        (date(1975, 6, 13), "one digit or two neighbouring digits differ"),
        (date(1957, 6, 12), "one digit or two neighbouring digits differ"),
        (date(1975, 8, 12), "one digit or two neighbouring digits differ"),
    ],
)
def test_a_birth_date_one_slip_away_agrees_closely(other: date, note: str) -> None:
    assert compare_birth_dates(date(1975, 6, 12), other) == (
        "close",
        compare_birth_dates(date(1975, 6, 12), other)[1],
        note,
    )


def test_birth_dates_far_apart_differ_and_none_is_missing() -> None:
    assert compare_birth_dates(date(1975, 6, 12), date(1982, 11, 3))[0] == "different"
    assert compare_birth_dates(date(1975, 6, 12), None)[0] == "missing"
    assert compare_birth_dates(None, None)[0] == "missing"


def test_one_typo_in_an_identifier_or_postcode_agrees_closely() -> None:
    assert compare_codes("9004242", "9004224")[0] == "close"  # neighbours swapped
    assert compare_codes("9004242", "9004243")[0] == "close"  # one digit wrong
    assert compare_codes("9004242", "900424")[0] == "close"  # one digit dropped
    assert compare_codes("9004242", "9175450")[0] == "different"
    assert compare_codes("2068", "2086", min_length=3)[0] == "close"
    assert compare_codes("2068", "3000", min_length=3)[0] == "different"
    assert level(JANE, n(identifier="9004224"), "identifier") == "close"
    assert level(JANE, n(postcode="3456"), "postcode") == "close"


def test_phones_and_streets_tolerate_formatting() -> None:
    a, b = n(phone="(03) 9876 5432").normalise(), n(phone="+61 3 9876 5432").normalise()
    assert compare_phones(a.phone, b.phone)[:3:2] == ("close", "same local number")
    assert level(JANE, n(street="38 maltby cct"), "street") == "exact"
    assert compare_streets("38 maltby circuit", "maltby circuit")[0] == "close"
    assert compare_streets("38 maltby circuit", "7 lander crescent")[0] == "different"


def test_missing_fields_neither_reward_nor_punish() -> None:
    sparse = Demographics(given_name="Jane", family_name="Harrington")
    result = score(JANE, sparse)
    assert set(result.missing) == set(FIELDS) - {"given_name", "family_name"}
    assert all(result.field(f).weight == 0 for f in result.missing)
    assert result.total == WEIGHTS["given_name"]["exact"] + WEIGHTS["family_name"]["exact"]
    empty = score(Demographics(), Demographics())
    assert empty.total == 0
    assert empty.classification == "non-match"


# -- scores and classification ------------------------------------------------------------------


def test_the_thresholds_split_scores_into_three_classes() -> None:
    assert POSSIBLE_THRESHOLD < MATCH_THRESHOLD
    assert classify(MATCH_THRESHOLD) == "match"
    assert classify(MATCH_THRESHOLD - 0.5) == "possible"
    assert classify(POSSIBLE_THRESHOLD) == "possible"
    assert classify(POSSIBLE_THRESHOLD - 0.5) == "non-match"


def test_typical_pairs_classify_as_expected() -> None:
    assert score(JANE, JANE).classification == "match"
    name_and_birth = Demographics("Jane", "Harrington", date(1975, 6, 12))
    assert score(JANE, name_and_birth).classification == "match"
    name_only = Demographics("Jane", "Harrington")
    assert score(JANE, name_only).classification == "possible"
    stranger = person("Connor Wardle 1905-12-05 87 Cooling Place|View Bank|3909|vic|8455674")
    stranger = replace(stranger, sex="M", phone="0411 222 333")
    assert score(JANE, stranger).classification == "non-match"


def test_a_score_explains_itself_without_patient_values() -> None:
    other = n(given_name="Jnae", birth_date=date(1975, 12, 6), street="7 Lander Crescent")
    result = score(JANE, other)
    assert result.policy_version == POLICY_VERSION == "matching/1"
    assert "given_name" in result.agreed and "birth_date" in result.agreed
    assert result.disagreed == ("street",)
    assert result.field("birth_date").note == "day and month transposed"
    assert result.total == sum(f.weight for f in result.fields)
    for value in ("jane", "jnae", "harrington", "lander", "1975", "9004242", "coolaroo"):
        assert value not in result.reason.lower()
    assert result.reason.startswith(f"{result.classification} (score ")


def test_twins_and_namesakes_are_at_most_possible_unless_an_identifier_agrees() -> None:
    twin = n(given_name="Kayla", identifier="7125552", sex=None)
    result = score(JANE, twin)
    assert result.total >= MATCH_THRESHOLD
    assert result.classification == "possible"
    assert "twins" in result.caution
    parent = n(birth_date=date(1950, 1, 30), identifier=None)
    assert score(JANE, parent).classification == "possible"
    assert "relatives" in score(JANE, parent).caution
    renamed = n(given_name="Kayla")  # same identifier: the data entry, not the person, is wrong
    assert score(JANE, renamed).classification == "match"
    assert score(JANE, renamed).caution == ""


# -- blocking and duplicates --------------------------------------------------------------------


POPULATION = [
    JANE,
    person("Connor Wardle 1905-12-05 87 Cooling Place|View Bank|3909|vic|8455674"),
    person("Lilian Golder 1984-02-05 56 Carnegie Crescent|Malabar|2075|qld|2549764"),
    person("Joshua Campbell 1970-10-09 40 Rabnor Place|Cranbourne|6026|wa|1041544"),
    n(family_name="Harirngton", street=None, identifier="9004224"),
    person("Chloe Nappo 1994-02-01 3 Balonne Street|Carnegie|2068|wa|8222350"),
]


def test_a_duplicate_with_a_misspelt_family_name_is_still_a_candidate() -> None:
    pairs = candidate_pairs(POPULATION)
    assert (0, 4) in pairs
    assert all(i < j for i, j in pairs)
    assert len(pairs) < len(POPULATION) * (len(POPULATION) - 1) // 2


def test_blocking_keys_skip_missing_fields() -> None:
    assert blocking_keys(Demographics()) == []
    keys = blocking_keys(Demographics(family_name="Smith", birth_date=date(1980, 1, 2)))
    assert any(key.startswith("family+year:") for key in keys)
    assert not any(key.startswith("postcode") for key in keys)


def test_swapped_names_share_a_blocking_key() -> None:
    a = Demographics("Jane", "Harrington")
    b = Demographics("Harrington", "Jane")
    assert set(blocking_keys(a)) & set(blocking_keys(b))


def test_find_duplicates_returns_scored_pairs_best_first() -> None:
    records = [*POPULATION, n(given_name="Janie")]
    found = find_duplicates(records)
    assert {(d.left, d.right) for d in found} == {(0, 4), (0, 6), (4, 6)}
    assert all(d.classification == "match" for d in found)
    totals = [d.score.total for d in found]
    assert totals == sorted(totals, reverse=True)
    assert found[0].reason == found[0].score.reason
    everything = find_duplicates(records, threshold=-1000)
    assert len(everything) == len(candidate_pairs(records))


# -- ranking for `patient find` -----------------------------------------------------------------


def test_rank_by_name_only() -> None:
    ranked = rank_candidates(Demographics("Lilian", "Golder"), POPULATION)
    assert ranked[0][0] == 2
    assert ranked[0][1].classification == "possible"
    assert len(ranked) == 1  # nobody else has any evidence for them


def test_rank_by_name_and_birth_date_picks_the_right_namesake() -> None:
    records = [*POPULATION, n(birth_date=date(1990, 3, 3), identifier=None)]
    ranked = rank_candidates(Demographics("Jane", "Harrington", date(1990, 3, 3)), records)
    assert ranked[0][0] == len(POPULATION)
    assert ranked[0][1].classification == "match"


def test_a_misspelt_name_ranks_its_record_first() -> None:
    ranked = rank_candidates(Demographics("Lillian", "Goldor"), POPULATION)
    assert ranked[0][0] == 2
    ranked = rank_candidates(Demographics("Jsohua", "Campbel", date(1970, 10, 9)), POPULATION)
    assert ranked[0][0] == 3


def test_rank_respects_the_limit_and_an_empty_query_finds_nothing() -> None:
    query = Demographics(family_name="Harrington")
    assert len(rank_candidates(query, POPULATION, limit=1)) == 1
    assert rank_candidates(query, POPULATION, limit=0) == []
    assert rank_candidates(Demographics(), POPULATION) == []


# -- properties ---------------------------------------------------------------------------------

_NAMES = [
    "jane",
    "jnae",
    "jan",
    "bill",
    "william",
    "harrington",
    "harington",
    "smith",
    "smyth",
    "catherine",
    "kathryn",
    "o'brien",
    "mary-ann",
    "",
    "  ",
]
names = st.sampled_from(_NAMES) | st.text(max_size=12)
dates = st.none() | st.builds(date, st.integers(1975, 1976), st.integers(1, 12), st.integers(1, 12))
codes = st.none() | st.sampled_from(["3465", "3456", "9004242", "9004224", "", "90 04 242"])
records = st.builds(
    Demographics,
    given_name=names,
    family_name=names,
    birth_date=dates,
    sex=st.none() | st.sampled_from(["F", "m", "female", "x"]),
    street=st.none() | st.sampled_from(["38 maltby circuit", "maltby cct", "7 lander cres"]),
    locality=st.none() | st.sampled_from(["coolaroo", "coolaro", "orford"]),
    postcode=codes,
    state=st.none() | st.sampled_from(["nsw", "vic"]),
    phone=st.none() | st.sampled_from(["0398765432", "+61 3 9876 5432", "0398765433"]),
    identifier=codes,
)


@settings(max_examples=300, deadline=None)
@given(records, records)
def test_score_is_symmetric(a: Demographics, b: Demographics) -> None:
    forward, backward = score(a, b), score(b, a)
    assert forward.total == backward.total
    assert forward.classification == backward.classification
    assert forward.similarity == backward.similarity


@settings(max_examples=200, deadline=None)
@given(records, st.text(min_size=1), st.text(min_size=1), st.dates())
def test_a_record_matches_itself(
    record: Demographics, given_name: str, family: str, born: date
) -> None:
    record = replace(record, given_name=given_name, family_name=family, birth_date=born)
    normalised = record.normalise()
    assume(normalised.given_name and normalised.family_name)
    result = score(record, record)
    assert result.classification == "match"
    assert result.disagreed == ()


# -- FEBRL dataset1 -----------------------------------------------------------------------------


def _febrl(name: str) -> tuple[list[Demographics], list[str]]:
    records: list[Demographics] = []
    people: list[str] = []
    with (FEBRL / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, skipinitialspace=True):
            row = {key.strip(): (value or "").strip() for key, value in row.items()}
            text = row["date_of_birth"]
            try:
                born: date | None = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
            except ValueError:
                born = None
            records.append(
                Demographics(
                    given_name=row["given_name"],
                    family_name=row["surname"],
                    birth_date=born,
                    street=f"{row['street_number']} {row['address_1']}",
                    locality=row["suburb"],
                    postcode=row["postcode"],
                    state=row["state"],
                    identifier=row["soc_sec_id"],
                )
            )
            people.append(row["rec_id"].split("-")[1])
    return records, people


def test_febrl_dataset1_precision_and_recall() -> None:
    records, people = _febrl("dataset1")
    assert len(records) == 1000
    truth = {(i, j) for i, j in combinations(range(len(records)), 2) if people[i] == people[j]}
    assert len(truth) == 500
    proposed = {(d.left, d.right) for d in find_duplicates(records)}
    assert proposed, "no duplicates proposed"
    hits = len(proposed & truth)
    assert len(candidate_pairs(records)) < 5000  # blocking, not all 499,500 pairs
    assert hits / len(proposed) >= 0.95, "precision"
    assert hits / len(truth) >= 0.95, "recall"


def test_index_and_search_keys() -> None:
    from policies.matching import index_keys, search_keys

    ada = Demographics("Ada", "Okafor", date(1961, 4, 2), postcode="4011")
    filed = set(index_keys(ada))
    assert set(blocking_keys(ada)) < filed and {"name:AD", "name:OCAFAR"} <= filed
    # a full query looks up by the blocking keys only, but the one that grows with the index
    full = Demographics("Adah", "Okafor", date(1961, 4, 2))
    assert search_keys(full) == [k for k in blocking_keys(full) if "given+family" not in k]
    # a query without a birth date adds the name codes: one name, or names swapped and mistyped
    assert set(search_keys(Demographics("Okafr", "Ada"))) & filed
    assert search_keys(Demographics(family_name="Okafor")) == ["name:OCAFAR"]
    assert search_keys(Demographics(sex="female")) == []
