"""Counterparts: every field weighed together (Fellegi-Sunter), Monite's field order for ties
and explanations; one-to-one; never created."""

from __future__ import annotations

import pytest

import matching._match
from matching import (
    LINK_WEIGHT,
    CounterpartIndex,
    CounterpartRecord,
    match_counterparts,
)

CP = CounterpartRecord


def one(incoming: CounterpartRecord, existing: list[CounterpartRecord]):
    [m] = match_counterparts([incoming], existing)
    return m


def test_a_varied_spelling_of_a_unique_name_is_matched() -> None:
    existing = [
        CP("cp-1", "Harrison & Sons Ltd", "GB", "Manchester", "14 Deansgate", "M3 2BW"),
        CP("cp-2", "Peterson Logistics Limited", "GB", "Leeds"),
    ]
    m = one(CP("c-9", "HARRISON AND SONS LIMITED", "United Kingdom", "Manchester"), existing)
    assert m.outcome == "matched"
    assert m.existing_id == "cp-1"
    assert m.score > 99.0
    best = m.candidates[0]
    assert (best.existing_id, best.name, best.country, best.city) == ("cp-1", 100.0, 100.0, 100.0)
    assert best.address is None  # the incoming record has no address: not held against it
    # Every field's level and weight, in Monite's order; the total is their sum.
    assert [f.field for f in best.fields] == ["name", "country", "city", "address", "postal_code"]
    assert [f.level for f in best.fields] == ["exact", "exact", "exact", "missing", "missing"]
    assert best.fields[3].weight == best.fields[4].weight == 0.0
    assert best.weight == pytest.approx(sum(f.weight for f in best.fields), abs=0.05)
    assert best.weight >= LINK_WEIGHT


@pytest.mark.parametrize(
    ("incoming", "existing"),
    [
        ("Jonathon Whitfield", "Jonathan Whitfield"),  # typo
        ("Whitfield, Jonathan", "Jonathan Whitfield"),  # token order
        ("J. Whitfield", "Jonathan Whitfield"),  # initial
        ("Fennimore Intl Trading", "Fennimore International Trading Inc."),  # abbreviation
        ("Bäckerei Schröder", "Baeckerei Schroeder GmbH"),  # accents vs transliteration
    ],
)
def test_real_book_variations_still_match(incoming: str, existing: str) -> None:
    m = one(CP("c-1", incoming, "DE"), [CP("cp-1", existing, "DE"), CP("cp-2", "Oakridge Ltd")])
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")


def test_a_different_name_is_unmatched_and_nothing_is_created() -> None:
    existing = [CP("cp-1", "Harrison & Sons Ltd", "GB")]
    m = one(CP("c-1", "Blackwood Carpentry", "GB"), existing)
    assert (m.outcome, m.existing_id, m.candidates) == ("unmatched", None, ())


def test_same_name_narrowed_by_country() -> None:
    existing = [
        CP("cp-gb", "Atlas Freight Ltd", "GB", "London"),
        CP("cp-de", "Atlas Freight GmbH", "DE", "Hamburg"),
    ]
    m = one(CP("c-1", "Atlas Freight", "Germany"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-de")
    excluded = {c.existing_id: c.excluded_by for c in m.candidates}
    assert excluded == {"cp-de": None, "cp-gb": "country"}


def test_same_name_and_country_narrowed_by_city() -> None:
    existing = [
        CP("cp-1", "Riverside Dental Practice", "GB", "Bristol"),
        CP("cp-2", "Riverside Dental Practice", "GB", "York"),
    ]
    m = one(CP("c-1", "Riverside Dental Practice", "GB", "YORK"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-2")


def test_same_name_country_and_city_narrowed_by_address() -> None:
    existing = [
        CP("cp-1", "Green Leaf Café", "FR", "Paris", "12 Rue de Rivoli", "75004"),
        CP("cp-2", "Green Leaf Café", "FR", "Paris", "88 Avenue Victor Hugo", "75116"),
    ]
    m = one(CP("c-1", "Green Leaf Cafe", "FR", "Paris", "88 avenue Victor-Hugo"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-2")
    assert {c.existing_id: c.excluded_by for c in m.candidates}["cp-1"] == "address"


def test_same_name_narrowed_by_postal_code() -> None:
    existing = [
        CP("cp-1", "Oakridge Veterinary Clinic", "GB", "Bath", postal_code="BA1 1AA"),
        CP("cp-2", "Oakridge Veterinary Clinic", "GB", "Bath", postal_code="BA2 6PT"),
    ]
    m = one(CP("c-1", "Oakridge Veterinary Clinic", "GB", "Bath", postal_code="ba26pt"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-2")


def test_without_a_city_a_different_postal_code_and_address_is_elsewhere() -> None:
    existing = [CP("cp-1", "Kestrel Roofing Ltd", "GB", "Leeds", "3 Mill Lane", "LS1 4AB")]
    m = one(CP("c-1", "Kestrel Roofing", "GB", None, "Unit 5 Quay Road", "TR1 2HE"), existing)
    assert m.outcome != "matched"
    levels = {f.field: f.level for f in m.candidates[0].fields}
    assert (levels["address"], levels["postal_code"]) == ("different", "different")
    # The same record without the postal code: one disagreement is not enough to rule out
    # an equal name: a person decides (the address may be a second site).
    m = one(CP("c-1", "Kestrel Roofing", "GB", None, "Unit 5 Quay Road"), existing)
    assert m.outcome != "unmatched"
    # ... and with nothing but the name, it links.
    m = one(CP("c-1", "Kestrel Roofing", "GB"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")


def test_names_break_ties_first() -> None:
    # Equal totals: the stronger name comes first (Monite's order), and is shown first.
    existing = [
        CP("cp-1", "Northwind Traders", "US", "Seattle"),
        CP("cp-2", "Northwind Trading", "US", "Seattle"),
    ]
    m = one(CP("c-1", "Northwind Traders LLC", "US", "Seattle"), existing)
    assert m.candidates[0].existing_id == "cp-1"
    assert m.candidates[0].fields[0].level == "exact"


def test_an_agreeing_address_outweighs_a_slightly_closer_name() -> None:
    existing = [
        CP("cp-1", "Northwind Traders", "US", "Seattle", "1 Pine Street", "98101"),
        CP("cp-2", "Northwind Trading", "US", "Seattle", "500 Lake Avenue", "98109"),
    ]
    m = one(CP("c-1", "Northwind Traders LLC", "US", "Seattle", "500 Lake Ave", "98109"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-2")
    loser = next(c for c in m.candidates if c.existing_id == "cp-1")
    assert loser.excluded_by == "address"  # the first field, in Monite's order, where it lost


def test_same_name_without_anything_to_tell_them_apart_is_ambiguous() -> None:
    existing = [
        CP("cp-1", "Riverside Dental Practice", "GB", "Bristol"),
        CP("cp-2", "Riverside Dental Practice", "GB", "York"),
    ]
    m = one(CP("c-1", "Riverside Dental Practice Ltd", "GB"), existing)
    assert (m.outcome, m.existing_id) == ("ambiguous", None)
    assert {c.existing_id for c in m.candidates} == {"cp-1", "cp-2"}


def test_initials_that_fit_two_people_are_ambiguous() -> None:
    existing = [CP("cp-1", "John Smith", "GB"), CP("cp-2", "Jane Smith", "GB")]
    assert one(CP("c-1", "J. Smith", "GB"), existing).outcome == "ambiguous"
    assert one(CP("c-2", "Jane Smith", "GB"), existing).existing_id == "cp-2"


def test_an_empty_field_neither_helps_nor_hurts() -> None:
    # No city on the existing record: not ruled out by the incoming city.
    m = one(CP("c-1", "Kestrel Roofing Ltd", "GB", "Leeds"), [CP("cp-1", "Kestrel Roofing", "GB")])
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")
    # ... while an agreeing city is evidence: the record in Leeds wins over one without a city.
    existing = [
        CP("cp-1", "Kestrel Roofing", "GB"),
        CP("cp-2", "Kestrel Roofing", "GB", "Leeds"),
    ]
    m = one(CP("c-1", "Kestrel Roofing Ltd", "GB", "Leeds"), existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-2")
    assert next(c for c in m.candidates if c.existing_id == "cp-1").excluded_by == "city"


def test_the_same_name_in_another_city_is_another_company() -> None:
    existing = [CP("cp-1", "Kestrel Roofing Ltd", "GB", "Leeds", "3 Mill Lane", "LS1 4AB")]
    m = one(
        CP("c-1", "Kestrel Roofing Ltd", "GB", "Truro", "Unit 5 Quay Road", "TR1 2HE"), existing
    )
    assert (m.outcome, m.existing_id) == ("unmatched", None)
    assert m.candidates[0].excluded_by == "weight"
    levels = {f.field: f.level for f in m.candidates[0].fields}
    assert levels["name"] == "exact"
    assert levels["city"] == levels["address"] == "different"


def test_one_existing_counterpart_is_not_linked_twice() -> None:
    existing = [CP("cp-1", "Globex Corporation", "US", "Springfield", "742 Evergreen Terrace")]
    incoming = [
        CP("c-1", "Globex Corp", "US"),
        CP("c-2", "GLOBEX CORPORATION", "US", "Springfield", "742 Evergreen Terrace"),
    ]
    first, second = match_counterparts(incoming, existing)
    assert (second.outcome, second.existing_id) == ("matched", "cp-1")
    assert (first.outcome, first.existing_id) == ("ambiguous", None)
    assert "cp-1" in first.reason


def test_equal_claims_on_one_counterpart_both_become_ambiguous() -> None:
    existing = [CP("cp-1", "Globex Corporation", "US")]
    incoming = [CP("c-1", "Globex Corp", "US"), CP("c-2", "Globex Inc", "US")]
    assert [m.outcome for m in match_counterparts(incoming, existing)] == ["ambiguous"] * 2


def test_a_counterpart_already_linked_elsewhere_is_not_linked_again() -> None:
    existing = [CP("cp-1", "Globex Corporation", "US")]
    [m] = match_counterparts([CP("c-7", "Globex Corp", "US")], existing, claimed={"cp-1"})
    assert (m.outcome, m.existing_id) == ("ambiguous", None)


def test_one_match_per_incoming_record_in_order() -> None:
    existing = [CP("cp-1", "Harrison & Sons Ltd"), CP("cp-2", "Peterson Logistics")]
    incoming = [CP("c-3", "Nobody Known"), CP("c-2", "Peterson Logistics"), CP("c-1", "Harrison")]
    matches = match_counterparts(incoming, existing)
    assert [m.incoming_id for m in matches] == ["c-3", "c-2", "c-1"]
    assert [m.existing_id for m in matches] == [None, "cp-2", None]


def test_a_prepared_index_gives_the_same_answers_as_a_list() -> None:
    existing = [CP(f"cp-{i}", name, "GB") for i, name in enumerate(NAMES)]
    incoming = [CP(f"c-{i}", name.upper(), "UK") for i, name in enumerate(NAMES)]
    index = CounterpartIndex(existing)
    assert match_counterparts(incoming, index) == match_counterparts(incoming, existing)
    assert all(
        m.existing_id == f"cp-{i}" for i, m in enumerate(match_counterparts(incoming, index))
    )


def test_workers_split_the_work_without_changing_the_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(matching._match, "PARALLEL_MIN", 4)
    existing = [CP(f"cp-{i}", name, "GB") for i, name in enumerate(NAMES)]
    incoming = [CP(f"c-{i}", name.lower(), "GB") for i, name in enumerate(NAMES)]
    assert match_counterparts(incoming, existing, workers=2) == match_counterparts(
        incoming, existing
    )


NAMES = [
    "Harrison & Sons Ltd",
    "Peterson Logistics",
    "Atlas Freight",
    "Kestrel Roofing",
    "Brightside Media",
    "Oakridge Veterinary Clinic",
    "Margaret Holloway",
    "Fennimore Trading",
]
