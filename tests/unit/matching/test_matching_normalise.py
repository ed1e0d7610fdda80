"""Names and countries are normalised before they are compared."""

from __future__ import annotations

import pytest

from matching import CounterpartRecord, country_code, match_counterparts, name_tokens


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Harrison & Sons Ltd", "HARRISON AND SONS LIMITED"),
        ("Acme Widgets, LLC", "acme widgets"),
        ("Northwind Traders Inc.", "Northwind Traders"),
        ("Müller GmbH & Co. KG", "Muller"),
        ("Société Générale S.A.", "Societe Generale"),
        ("Heineken N.V.", "heineken nv"),
        ("Van Oord B.V.", "Van Oord"),
        ("Koala Cleaning Pty Ltd", "Koala Cleaning"),
        ("The Body Shop", "Body Shop"),
        ("O'Brien Intl.", "OBrien International"),
        ("Zakłady Mięsne Sp. z o.o.", "Zaklady Miesne"),
        ("Smith-Jones  Consulting", "smith jones consulting"),
    ],
)
def test_spellings_of_one_name_normalise_alike(a: str, b: str) -> None:
    assert name_tokens(a) == name_tokens(b)


def test_a_name_made_only_of_legal_words_is_kept() -> None:
    assert name_tokens("The Company") == ("company",)


def test_initials_are_not_taken_for_a_spanish_y() -> None:
    assert name_tokens("Hermanos Garcia y Lopez S.L.") == ("hermanos", "garcia", "lopez")
    assert name_tokens("J. E. Smith") == ("j", "e", "smith")


@pytest.mark.parametrize("spelling", ["United Kingdom", "UK", "GB", "gb", "GBR", "England"])
def test_country_spellings_are_one_iso_code(spelling: str) -> None:
    assert country_code(spelling) == "GB"


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("USA", "US"),
        ("netherlands", "NL"),
        ("United Kingdom (GB)", "GB"),  # Sage's spelling in Codat's examples
        ("Aruba (AW)", "AW"),
    ],
)
def test_country_names_in_other_spellings(spelling: str, code: str) -> None:
    assert country_code(spelling) == code


def test_blank_country_is_none() -> None:
    assert country_code("  ") is None
    assert country_code(None) is None


def test_uk_and_gb_do_not_rule_each_other_out() -> None:
    existing = [
        CounterpartRecord("cp-1", "Brightside Media Ltd", country="GB", city="Leeds"),
        CounterpartRecord("cp-2", "Brightside Media GmbH", country="DE", city="Leeds"),
    ]
    incoming = [CounterpartRecord("c-1", "BRIGHTSIDE MEDIA LIMITED", country="United Kingdom")]
    [m] = match_counterparts(incoming, existing)
    assert (m.outcome, m.existing_id) == ("matched", "cp-1")
