"""Products: matched by name alone; none -> the caller creates one; several -> nothing linked."""

from __future__ import annotations

from matching import ProductIndex, ProductRecord, match_products

PR = ProductRecord

CATALOGUE = [
    PR("p-1", "Consulting hour"),
    PR("p-2", "Ergonomic Office Chair"),
    PR("p-3", "Annual Support Licence 2024"),
    PR("p-4", "USB-C Cable 2m"),
    PR("p-5", "ergonomic office-chair"),
]


def one(name: str, existing: list[ProductRecord] = CATALOGUE):
    [m] = match_products([PR("item-1", name)], existing)
    return m


def test_a_unique_name_is_matched_despite_case_punctuation_and_plural() -> None:
    assert one("CONSULTING HOURS").existing_id == "p-1"
    assert one("USB C cable, 2m").existing_id == "p-4"


def test_no_similar_name_is_unmatched_so_the_caller_creates_a_product() -> None:
    m = one("Window cleaning")
    assert (m.outcome, m.existing_id, m.candidates) == ("unmatched", None, ())


def test_several_matching_products_link_nothing() -> None:
    m = one("Ergonomic office chair")
    assert (m.outcome, m.existing_id) == ("ambiguous", None)
    assert {c.existing_id for c in m.candidates} == {"p-2", "p-5"}


def test_different_numbers_are_different_products() -> None:
    m = one("Annual Support Licence 2025")
    assert m.outcome == "unmatched"
    assert one("annual support licence 2024").existing_id == "p-3"
    assert one("USB-C Cable 1m").outcome == "unmatched"


def test_legal_words_are_part_of_a_product_name() -> None:
    # "Co" is not stripped from products as it is from company names.
    existing = [PR("p-1", "Travel Mug Co"), PR("p-2", "Travel Mug")]
    assert one("travel mug", existing).existing_id == "p-2"


def test_one_product_is_not_linked_to_two_items() -> None:
    matches = match_products(
        [PR("i-1", "Consulting hours"), PR("i-2", "Consulting hour")], CATALOGUE
    )
    assert [(m.outcome, m.existing_id) for m in matches] == [
        ("ambiguous", None),
        ("matched", "p-1"),
    ]


def test_a_prepared_index_is_reusable() -> None:
    index = ProductIndex(CATALOGUE)
    first = match_products([PR("i-1", "consulting hour")], index)
    second = match_products([PR("i-2", "Consulting Hour")], index)
    assert first[0].existing_id == second[0].existing_id == "p-1"
