"""Normalisation of names, countries, cities, addresses and postal codes before scoring."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

CACHE_SIZE = 1_024
"""Entries each normalisation cache keeps (least recently used first out), here and in
`_compare`: a value met again (a common city, a name matched on every push) is normalised
once, while a pull of 100,000 distinct contacts keeps at most this many. At 262,144 entries
(about 2 KB per distinct contact across the caches) they held 110 MB after a 160,000-record
pull, and their entries, made while pages came and went, kept the allocator's arenas from
being handed back; 1,024 instead of 8,192 lowers that pull's peak RSS by another 12 MB at
the same speed (issue 17)."""

_TRANSLIT = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "ø": "o",
        "Ø": "o",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "&": " and ",
        "+": " and ",
        ".": "",
        "'": "",
        "’": "",
        "`": "",
    }
)
_NON_WORD = re.compile(r"[\W_]+")

# Words meaning "and" in the locales we see; "&" is translated to "and" first.
_AND = frozenset({"and", "und", "et"})

# Legal forms, dotted forms already collapsed ("S.A." -> "sa"); stripped from the end of a name.
_LEGAL_FORMS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {
            (form,)
            for form in (
                "ltd limited llc lc llp lp plc inc incorporated corp corporation co company "
                "pty pte pvt gmbh mbh ag kg kgaa ohg ug gbr ek ev sa sas sasu sarl eurl sca snc "
                "sl slu sll srl srls spa sapa bv nv vof cv ab as asa oy oyj aps kft zrt "
                "sro ad doo ltda eireli kk gk pllc pc lllp ulc se"
            ).split()
        }
        | {
            ("sp", "z", "oo"),
            ("spolka", "z", "oo"),
            ("sa", "de", "cv"),
            ("s", "de", "rl"),
            ("s", "de", "rl", "de", "cv"),
            ("pty", "ltd"),
            ("pvt", "ltd"),
            ("pte", "ltd"),
            ("co", "ltd"),
            ("gmbh", "and", "co", "kg"),
            ("s", "a"),
            ("s", "l"),
            ("b", "v"),
            ("n", "v"),
            ("limited", "liability", "company"),
            ("societe", "anonyme"),
            ("ooo",),
            ("zao",),
            ("oao",),
            ("pao",),
        },
        key=len,
        reverse=True,
    )
)

_NAME_ABBREVIATIONS = {
    "intl": "international",
    "int": "international",
    "bros": "brothers",
    "mfg": "manufacturing",
    "svc": "services",
    "svcs": "services",
    "assoc": "associates",
    "assocs": "associates",
    "mgmt": "management",
    "natl": "national",
    "dept": "department",
    "ctr": "center",
    "centre": "center",
    "st": "saint",
    "ste": "sainte",
    "grp": "group",
    "hldgs": "holdings",
    "hldg": "holding",
    "tech": "technology",
    "technologies": "technology",
}

_ADDRESS_ABBREVIATIONS = {
    "street": "st",
    "str": "strasse",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "square": "sq",
    "suite": "ste",
    "apartment": "apt",
    "floor": "fl",
    "highway": "hwy",
    "parkway": "pkwy",
    "terrace": "ter",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "unit": "ste",
    "no": "",
    "number": "",
}

_COUNTRY_ALIASES = {
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "el": "GR",
    "usa": "US",
    "us": "US",
    "america": "US",
    "united states": "US",
    "united states of america": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "deutschland": "DE",
    "osterreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "espana": "ES",
    "italia": "IT",
    "polska": "PL",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "belgique": "BE",
    "belgie": "BE",
    "brasil": "BR",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "czech republic": "CZ",
    "czechia": "CZ",
    "turkey": "TR",
    "vietnam": "VN",
    "uae": "AE",
    "ireland": "IE",
}


def fold(text: str) -> str:
    """Casefold and strip accents; `&`/`+` become " and "; dots and apostrophes vanish
    (so "S.A." is "sa" and "O'Brien" is "obrien"); other punctuation becomes a space.
    Letters of non-Latin scripts are kept (casefolded)."""
    text = text.translate(_TRANSLIT)
    if not text.isascii():
        text = "".join(
            ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
        )
    return _NON_WORD.sub(" ", text.casefold()).strip()


_FORMS_BY_LAST: dict[str, list[tuple[str, ...]]] = {}
for _form in _LEGAL_FORMS:
    _FORMS_BY_LAST.setdefault(_form[-1], []).append(_form)

# One-letter "and" (Spanish y, Polish i, Italian/Portuguese e), dropped only between two
# longer words so that initials ("J. E. Smith") survive.
_SHORT_AND = frozenset({"y", "i", "e"})


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    while len(tokens) > 1:
        for form in _FORMS_BY_LAST.get(tokens[-1], ()):
            n = len(form)
            if len(tokens) > n and tuple(tokens[-n:]) == form:
                del tokens[-n:]
                break
        else:
            return tokens
    return tokens


def _drop_and(raw: list[str]) -> list[str]:
    out = []
    last = len(raw) - 1
    for i, t in enumerate(raw):
        if t in _AND:
            continue
        if t in _SHORT_AND and 0 < i < last and len(raw[i - 1]) > 1 and len(raw[i + 1]) > 1:
            continue
        out.append(t)
    return out


@lru_cache(maxsize=CACHE_SIZE)
def name_tokens(name: str) -> tuple[str, ...]:
    """Normalised tokens of a counterpart name, in their original order.

    Case, accents, punctuation and whitespace are folded; `&` and "and" (und, et; y, i, e
    between two words) are dropped; a leading or trailing "The" is dropped ("The Apple Pan",
    "Apple Pan, The"); legal forms (Ltd, Limited, LLC, Inc, GmbH, GmbH & Co. KG, S.A.,
    B.V., Pty Ltd, Sp. z o.o., ...) are stripped from the end; common abbreviations are
    expanded (Intl -> international, Bros -> brothers, Mfg -> manufacturing, ...). A name made
    only of such words keeps its folded tokens, so it never normalises to nothing.
    """
    raw = fold(name).split()
    tokens = _drop_and(raw)
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    if len(tokens) > 1 and tokens[-1] == "the":  # "Apple Pan, The"
        tokens = tokens[:-1]
    tokens = _strip_legal_forms(tokens)
    tokens = [_NAME_ABBREVIATIONS.get(t, t) for t in tokens]
    return tuple(tokens) or tuple(raw)


def sorted_key(tokens: tuple[str, ...]) -> str:
    """The tokens sorted and joined by a space: the string the name scorers compare."""
    return " ".join(sorted(tokens))


@lru_cache(maxsize=CACHE_SIZE)
def product_tokens(name: str) -> tuple[str, ...]:
    """Normalised tokens of a product name: case, accents, punctuation and whitespace only
    (no legal forms or abbreviations: "Co" or "Int" may be part of a product's name)."""
    return tuple(_drop_and(fold(name).split()))


@lru_cache(maxsize=CACHE_SIZE)
def country_code(country: str | None) -> str | None:
    """ISO 3166 alpha-2 code for a country name or code ("United Kingdom", "UK", "GB", "gb",
    "GBR", "England" -> "GB"), via pycountry plus a few common aliases; an unknown value is
    returned folded (so two equal unknown values still agree); empty -> None."""
    if not country or not country.strip():
        return None
    folded = fold(country)
    if not folded:
        return None
    alias = _COUNTRY_ALIASES.get(folded)
    if alias:
        return alias
    if len(folded) == 2:
        hit = pycountry.countries.get(alpha_2=folded.upper())
        if hit:
            return hit.alpha_2
    if len(folded) == 3:
        hit = pycountry.countries.get(alpha_3=folded.upper())
        if hit:
            return hit.alpha_2
    try:
        return pycountry.countries.lookup(country.strip()).alpha_2
    except LookupError:
        pass
    try:
        return pycountry.countries.lookup(folded).alpha_2
    except LookupError:
        pass
    # Sage writes "United Kingdom (GB)", "Aruba (AW)": a name with the code in brackets.
    bracketed = _BRACKETED_CODE.search(country)
    if bracketed and (hit := pycountry.countries.get(alpha_2=bracketed.group(1).upper())):
        return hit.alpha_2
    return folded


_BRACKETED_CODE = re.compile(r"\(([A-Za-z]{2})\)\s*$")


@lru_cache(maxsize=CACHE_SIZE)
def city_key(city: str | None) -> str | None:
    """Folded city, tokens sorted; empty -> None."""
    if not city:
        return None
    return " ".join(sorted(fold(city).split())) or None


@lru_cache(maxsize=CACHE_SIZE)
def postal_key(postal_code: str | None) -> str | None:
    """Postal code casefolded without spaces or punctuation; empty -> None."""
    if not postal_code:
        return None
    return "".join(fold(postal_code).split()) or None


STREET_TYPES = frozenset(
    {v for v in _ADDRESS_ABBREVIATIONS.values() if v}
    | {"blv", "cres", "crescent", "cct", "circuit", "way", "pde", "parade", "cl", "close"}
    | {"gr", "grove", "tce", "hwy", "ste", "apt", "fl", "strasse", "rue", "via", "calle"}
    | {"flat", "studio", "room", "box", "building", "bldg", "level", "lot", "shop", "po"}
)
"""Street-type and unit words (abbreviated forms): they say little about which street."""


_ORDINAL = re.compile(r"\d+(st|nd|rd|th)")


def compact(text: str | None) -> str | None:
    """`text` without spaces ("moona hwest" and "moonah west" are one city); None stays."""
    return text.replace(" ", "") if text else None


@lru_cache(maxsize=CACHE_SIZE)
def address_parts(address: str | None) -> tuple[frozenset[str], tuple[str, ...]]:
    """(numbers, street words) of an address: tokens starting with a digit ("12224", "2" and
    "98" of "2/98", "12a"; not ordinals: "49th" of "E. 49th St." is a street word), and the
    other words folded, street-type words abbreviated ("Street" -> "st", "Road" -> "rd",
    "Suite" -> "ste", "...str." -> "...strasse") and sorted; empty parts are empty."""
    if not address:
        return frozenset(), ()
    numbers: set[str] = set()
    words: list[str] = []
    for t in fold(address).split():
        if t[0].isdigit() and not _ORDINAL.fullmatch(t):
            numbers.add(t.lstrip("0") or t)
            continue
        t = _ADDRESS_ABBREVIATIONS.get(t, t)
        if len(t) > 4 and t.endswith("str"):
            t += "asse"
        if t:
            words.append(t)
    return frozenset(numbers), tuple(sorted(words))
