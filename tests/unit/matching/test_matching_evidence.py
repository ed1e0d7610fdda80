"""The failure classes seen on public labelled data: every field's evidence weighs together.

A strong address carries a partial name; a district or a typo in the city weighs against a
candidate without ruling it out; a known different country always rules it out; an address
alone never links two different names; equal candidates stay for a person.
"""

from __future__ import annotations

import pytest

from matching import LEVELS, CounterpartRecord, match_counterparts

CP = CounterpartRecord

# Other counterparts in the book, so that blocking and margins work on more than one record.
BOOK = [
    CP("x-1", "Harbour Fish Bar", "US", "Los Angeles", "88 Ocean Ave", "90401"),
    CP("x-2", "Arts Supplies Warehouse", "US", "Burbank", "400 Olive Ave", "91502"),
    CP("x-3", "Marcus Whitely", "AU", "Hobart", "3 Elizabeth St", "7000"),
    CP("x-4", "Grand Deli", "US", "Studio City", "12001 Ventura Blvd", "91604"),
]


def one(incoming: CounterpartRecord, existing: list[CounterpartRecord]):
    [m] = match_counterparts([incoming], [*existing, *BOOK])
    return m


def level(m, field: str, existing_id: str) -> str:
    cand = next(c for c in m.candidates if c.existing_id == existing_id)
    return next(f.level for f in cand.fields if f.field == field)


@pytest.mark.parametrize(
    ("incoming", "existing"),
    [
        ("Mario's Deli", "Mario's Delicatessen"),  # trading name against registered name
        ("Sushi Nakamura", "Restaurant Sushi Nakamura"),  # a word added
        ("Le Petit Bistro (Santa Monica)", "Le Petit Bistro"),  # a qualifier added
        ("Okafor", "Adaeze Okafor"),  # a missing given name
    ],
)
def test_a_partial_name_with_the_same_address_links(incoming: str, existing: str) -> None:
    street = ("Studio City", "12224 Ventura Blvd.", "91604")
    m = one(CP("c-1", incoming, "US", *street), [CP("cp-1", existing, "US", *street)])
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")
    assert level(m, "name", "cp-1") in {"token_subset", "similar", "close", "exact"}
    assert level(m, "address", "cp-1") == "exact"


def test_a_partial_name_alone_is_not_linked() -> None:
    m = one(CP("c-1", "Okafor", "US"), [CP("cp-1", "Adaeze Okafor", "US", "Austin")])
    assert m.outcome != "matched"


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("West Hollywood", "Los Angeles"),  # a district for the city
        ("Sherman Oaks", "Los Angeles"),
        ("moona hwest", "Moonah West"),  # a typo that moves a space
    ],
)
def test_a_district_or_a_misspelt_city_with_the_same_street_links(theirs: str, ours: str) -> None:
    existing = [CP("cp-1", "Chez Antoine", "US", ours, "8795 Sunset Blvd", "90069")]
    m = one(CP("c-1", "Chez Antoine", "US", theirs, "8795 Sunset Blvd.", "90069"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")


def test_a_misspelt_city_is_close_not_different() -> None:
    existing = [CP("cp-1", "Jack Turner", "AU", "Moonah West", "14 Kemp Street", "7009")]
    m = one(CP("c-1", "Jack Turner", "AU", "moona hwest", "14 kemp st", "7009"), existing)
    assert level(m, "city", "cp-1") in {"exact", "close"}


def test_a_different_city_weighs_against_but_does_not_veto() -> None:
    existing = [CP("cp-1", "Chez Antoine", "US", "Los Angeles", "8795 Sunset Blvd")]
    m = one(CP("c-1", "Chez Antoine", "US", "West Hollywood", "8795 Sunset Blvd"), existing)
    city = next(f for f in m.candidates[0].fields if f.field == "city")
    assert (city.level, city.weight < 0) == ("different", True)
    assert m.outcome == "matched"


def test_a_known_different_country_never_links() -> None:
    existing = [CP("cp-1", "Atlas Freight Ltd", "GB", "Dover", "1 Harbour Way", "CT17 9BU")]
    m = one(CP("c-1", "Atlas Freight Ltd", "IE", "Dover", "1 Harbour Way", "CT17 9BU"), existing)
    assert (m.outcome, m.existing_id) == ("unmatched", None)
    assert m.candidates[0].excluded_by == "country"
    assert m.reason == "every candidate is in another country"


def test_two_equal_candidates_stay_ambiguous() -> None:
    twins = [
        CP("cp-1", "Riverside Dental", "GB", "York", "2 Mill Lane", "YO1 7HH"),
        CP("cp-2", "Riverside Dental", "GB", "York", "2 Mill Lane", "YO1 7HH"),
    ]
    m = one(CP("c-1", "Riverside Dental Ltd", "GB", "York", "2 Mill Lane", "YO1 7HH"), twins)
    assert (m.outcome, m.existing_id) == ("ambiguous", None)
    assert {c.existing_id for c in m.candidates} >= {"cp-1", "cp-2"}
    assert m.candidates[0].weight == m.candidates[1].weight


def test_an_address_alone_never_links_two_different_names() -> None:
    # Two restaurants in one casino: the same street address, nothing else in common.
    existing = [CP("cp-1", "Golden Nugget Buffet", "US", "Las Vegas", "129 Fremont St", "89101")]
    m = one(CP("c-1", "Vic & Anthony's", "US", "Las Vegas", "129 E. Fremont St", "89101"), existing)
    assert m.outcome != "matched"
    assert level(m, "name", "cp-1") == "different"


def test_a_numbered_street_is_not_a_house_number() -> None:
    # "49th" is the street: 201 and 205 E 49th St are different buildings.
    existing = [CP("cp-1", "Smith Steakhouse", "US", "New York", "201 E. 49th St.")]
    m = one(CP("c-1", "Grill on 49th", "US", "New York", "205 E. 49th St."), existing)
    assert m.outcome != "matched"
    for c in m.candidates:
        assert next(f.level for f in c.fields if f.field == "address") != "exact"


def test_a_name_with_typos_in_every_word_is_reached_through_its_address() -> None:
    existing = [CP("cp-1", "Harriet Sondergeld", "AU", "Bittern", "69 Giblin Street", "4814")]
    m = one(CP("c-1", "Hariet Sondregeld", "AU", "Bittern", "69 Giblin St", "4814"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")


def test_the_same_name_elsewhere_is_not_linked() -> None:
    existing = [CP("cp-1", "Kestrel Roofing", "GB", "Leeds", "3 Mill Lane", "LS1 4AB")]
    m = one(CP("c-1", "Kestrel Roofing", "GB", "Truro", "5 Quay Road", "TR1 2HE"), existing)
    assert (m.outcome, m.existing_id) == ("unmatched", None)


def test_each_candidate_explains_itself_in_monites_order() -> None:
    existing = [CP("cp-1", "Chez Antoine", "US", "Los Angeles", "8795 Sunset Blvd", "90069")]
    m = one(CP("c-1", "Chez Antoine Inc", "US", "West Hollywood", "8795 Sunset Blvd"), existing)
    best = m.candidates[0]
    assert [(f.field, f.level) for f in best.fields] == [
        ("name", "exact"),
        ("country", "exact"),
        ("city", "different"),
        ("address", "exact"),
        ("postal_code", "missing"),
    ]
    for f in best.fields:
        assert f.level == "missing" or f.level in LEVELS[f.field]
    assert best.weight == pytest.approx(sum(f.weight for f in best.fields), abs=0.05)
    assert "match weight" in m.reason


def test_a_bare_name_in_another_city_is_left_for_a_person() -> None:
    # Nothing but the name agrees and the city differs: maybe a move, maybe another company.
    existing = [CP("cp-1", "Concept Stationery Supplies", "GB", "Leeds")]
    m = one(CP("c-1", "Concept Stationery Supplies Ltd", "GB", "Newcastle"), existing)
    assert (m.outcome, m.existing_id) == ("ambiguous", None)
    assert "another city" in m.reason
    assert [c.existing_id for c in m.candidates][:1] == ["cp-1"]


def test_another_number_in_the_name_is_another_company() -> None:
    existing = [
        CP("cp-1", "AI Support", "GB"),
        CP("cp-2", "AI Support 2", "GB", "Blackpool", "77a Station Road", "BP12 7HT"),
    ]
    m = one(
        CP("c-1", "AI Support Ltd", "GB", "Blackpool", "67a Station Road", "BP12 7HT"), existing
    )
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")
    assert next(c for c in m.candidates if c.existing_id == "cp-2").excluded_by == "numbers"


def test_a_record_without_a_name_is_unmatched_whatever_its_address() -> None:
    existing = [CP("cp-1", "Chez Antoine", "US", "Los Angeles", "8795 Sunset Blvd", "90069")]
    m = one(CP("c-1", "", "US", "Los Angeles", "8795 Sunset Blvd", "90069"), existing)
    assert (m.outcome, m.existing_id, m.candidates) == ("unmatched", None, ())
