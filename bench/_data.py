"""Labelled counterpart data that looks like real accounting contacts (Faker, fixed seed).

`labelled_counterparts(seed, locales, n_existing)` returns the existing counterparts, the
incoming provider contacts and the truth (incoming id -> existing id, or None when the contact
has no counterpart). Variations applied to incoming copies: legal form added, dropped or
spelled differently; case; punctuation; token order; typos (one, sometimes two); abbreviations
(Intl, Bros, first name to initial); country as name, alpha-2, alpha-3, "UK" or missing;
missing city/address/postal code; street-type abbreviations; a word dropped or added (trading
vs registered name); a person's given name missing; a district (another place's name) instead
of the city with the same street. Traps: different companies with
the same name in different cities (both existing), incoming contacts without a counterpart,
some of which share a name with an existing company elsewhere.
"""

from __future__ import annotations

import random

import pycountry
from faker import Faker

from matching import CounterpartRecord

LEGAL_FORMS = {
    "en_US": ["Inc.", "LLC", "Inc", "Corp.", "Corporation", "L.L.C."],
    "en_GB": ["Ltd", "Limited", "Ltd.", "PLC", "LLP"],
    "en_AU": ["Pty Ltd", "Pty. Ltd.", "Limited"],
    "de_DE": ["GmbH", "AG", "GmbH & Co. KG", "KG", "e.K."],
    "fr_FR": ["SA", "S.A.", "SARL", "SAS", "S.A.R.L."],
    "es_ES": ["S.L.", "S.A.", "SL", "S.L.U."],
    "it_IT": ["S.p.A.", "SPA", "S.r.l.", "srl"],
    "nl_NL": ["B.V.", "BV", "N.V.", "NV"],
    "pl_PL": ["Sp. z o.o.", "S.A.", "sp. z o.o."],
    "pt_BR": ["Ltda.", "S.A.", "S/A", "LTDA"],
}
STREET_WORDS = [("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Drive", "Dr")]
ABBREVIATIONS = [("International", "Intl"), ("Brothers", "Bros"), ("Services", "Svcs")]
TRADING_WORDS = ["Trading", "Services", "Group", "Restaurant", "Store", "Shop"]
LOCALE_MIXES = {
    "uk-heavy": ["en_GB"] * 6 + ["en_US", "de_DE", "fr_FR", "nl_NL"],
    "eu-mix": ["de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "en_GB"],
    "americas": ["en_US"] * 4 + ["pt_BR", "es_ES", "en_AU"],
}


def _typo(rng: random.Random, name: str) -> str:
    spots = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(spots) < 6:
        return name
    i = rng.choice(spots[1:-1])
    kind = rng.randrange(4)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == 0:
        return name[:i] + letter + name[i + 1 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    if kind == 2:
        return name[:i] + letter + name[i:]
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :] if i + 1 < len(name) else name


class _Entity:
    __slots__ = ("address", "base", "city", "country", "form", "locale", "person", "postal")

    def __init__(self, **kw: object) -> None:
        for k, v in kw.items():
            setattr(self, k, v)


def _entity(fake: Faker, rng: random.Random, locale: str) -> _Entity:
    f = fake[locale]
    person = rng.random() < 0.35
    if person:
        base, form = f"{f.first_name()} {f.last_name()}", ""
    else:
        base = f.company()
        for forms in LEGAL_FORMS.values():
            for lf in sorted(forms, key=len, reverse=True):
                if base.endswith(" " + lf):
                    base = base[: -len(lf) - 1]
        form = rng.choice(LEGAL_FORMS.get(locale, [""])) if rng.random() < 0.7 else ""
        if rng.random() < 0.08:
            word, _ = rng.choice(ABBREVIATIONS)
            base = f"{base} {word}"
    country = locale.split("_")[1]
    if rng.random() < 0.1:
        country = rng.choice(["GB", "US", "DE", "FR", "NL", "IE", "ES", "IT"])
    street = f.street_address()
    if rng.random() < 0.3:
        long, _ = rng.choice(STREET_WORDS)
        street = f"{rng.randint(1, 300)} {f.last_name()} {long}"
    return _Entity(
        base=base,
        form=form,
        person=person,
        locale=locale,
        country=country,
        city=f.city(),
        address=street,
        postal=f.postcode(),
    )


def _render(e: _Entity) -> str:
    return f"{e.base} {e.form}".strip()


def _country_text(rng: random.Random, code: str) -> str | None:
    r = rng.random()
    if r < 0.08:
        return None
    c = pycountry.countries.get(alpha_2=code)
    if r < 0.35:
        return c.name if c else code
    if r < 0.45:
        return c.alpha_3 if c else code
    if r < 0.55:
        return code.lower()
    if code == "GB" and r < 0.7:
        return "UK"
    return code


def _vary_name(rng: random.Random, e: _Entity) -> str:
    base = e.base
    tokens = base.split()
    if e.person and rng.random() < 0.12 and len(tokens) >= 2:
        base = f"{tokens[-1]}, {' '.join(tokens[:-1])}"
    elif e.person and rng.random() < 0.08 and len(tokens) >= 2:
        base = f"{tokens[0][0]}. {' '.join(tokens[1:])}"
    elif not e.person and rng.random() < 0.1:
        if "-" in base:
            a, _, b = base.partition("-")
            base = f"{b}-{a}"
        elif " and " in base:
            base = base.replace(" and ", " & ")
        elif " & " in base:
            base = base.replace(" & ", " and ")
    for long, short in ABBREVIATIONS:
        if long in base and rng.random() < 0.5:
            base = base.replace(long, short)
    # Trading name against registered name: a word dropped or added; a person's given name
    # missing (the failure classes seen on public data).
    words = base.split()
    r = rng.random()
    if e.person and r < 0.05 and len(words) >= 2:
        base = words[-1]
    elif not e.person and r < 0.05 and len(words) >= 3:
        del words[rng.randrange(len(words))]
        base = " ".join(words)
    elif not e.person and r < 0.1:
        base = f"{base} {rng.choice(TRADING_WORDS)}"
    if rng.random() < 0.25:
        base = _typo(rng, base)
        if rng.random() < 0.15:
            base = _typo(rng, base)
    form = e.form
    if not e.person:
        r = rng.random()
        if r < 0.2:
            form = ""
        elif r < 0.35:
            form = rng.choice(LEGAL_FORMS.get(e.locale, [""]))
    name = f"{base} {form}".strip()
    r = rng.random()
    if r < 0.15:
        name = name.upper()
    elif r < 0.25:
        name = name.lower()
    if rng.random() < 0.1:
        name = name.replace(",", "").replace(".", "").replace("-", " ")
    if not e.person and rng.random() < 0.05:
        name = "The " + name
    return name


def _vary_address(rng: random.Random, address: str) -> str | None:
    if rng.random() < 0.15:
        return None
    for long, short in STREET_WORDS:
        if rng.random() < 0.5:
            address = address.replace(long, short)
        else:
            address = (
                address.replace(short + " ", long + " ") if address.endswith(short) else address
            )
    if rng.random() < 0.2:
        address = address.upper()
    return address


def _vary_city(rng: random.Random, e: _Entity, places: list[str]) -> str | None:
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.16:  # a district or neighbourhood for the city (another name, same street)
        return rng.choice(places)
    return e.city.upper() if r < 0.26 else e.city


def _record(rid: str, e: _Entity) -> CounterpartRecord:
    return CounterpartRecord(
        id=rid,
        name=_render(e),
        country=e.country,
        city=e.city,
        address=e.address,
        postal_code=e.postal,
    )


def _incoming(rng: random.Random, rid: str, e: _Entity, places: list[str]) -> CounterpartRecord:
    return CounterpartRecord(
        id=rid,
        name=_vary_name(rng, e),
        country=_country_text(rng, e.country),
        city=_vary_city(rng, e, places),
        address=_vary_address(rng, e.address),
        postal_code=None if rng.random() < 0.2 else e.postal,
    )


def labelled_counterparts(
    seed: int, locales: list[str], n_existing: int, *, share_with_counterpart: float = 0.75
) -> tuple[list[CounterpartRecord], list[CounterpartRecord], dict[str, str | None]]:
    """Existing counterparts, incoming contacts and the truth for a seed and a locale mix.

    About 4% of existing counterparts share their name with another existing one in a different
    city; `share_with_counterpart` of the existing ones get an incoming copy (varied); the
    incoming set gets 25% more contacts that have no counterpart, a fifth of which reuse an
    existing company's name in another city.
    """
    rng = random.Random(seed)
    fake = Faker(sorted(set(locales)))
    fake.seed_instance(seed)
    entities: list[_Entity] = []
    while len(entities) < n_existing:
        e = _entity(fake, rng, rng.choice(locales))
        entities.append(e)
        if rng.random() < 0.04:
            twin = _entity(fake, rng, e.locale)
            twin.base, twin.form, twin.person, twin.country = e.base, e.form, e.person, e.country
            entities.append(twin)
    existing = [_record(f"e{i}", e) for i, e in enumerate(entities)]
    places = [e.city for e in entities]
    incoming: list[CounterpartRecord] = []
    truth: dict[str, str | None] = {}
    for i, e in enumerate(entities):
        if rng.random() < share_with_counterpart:
            rid = f"i{len(incoming)}"
            incoming.append(_incoming(rng, rid, e, places))
            truth[rid] = f"e{i}"
    for _ in range(len(incoming) // 4):
        e = _entity(fake, rng, rng.choice(locales))
        if rng.random() < 0.2:
            other = rng.choice(entities)
            e.base, e.form, e.person, e.country = (
                other.base,
                other.form,
                other.person,
                other.country,
            )
        rid = f"i{len(incoming)}"
        incoming.append(_incoming(rng, rid, e, places))
        truth[rid] = None
    order = list(range(len(incoming)))
    rng.shuffle(order)
    return existing, [incoming[i] for i in order], truth
