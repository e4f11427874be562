"""Master patient index matching: which patient records are likely the same person.

Pure: demographics in, scores out, with a per-field breakdown so that a technician can see why
two records were (or were not) matched, and the policy version that scored them. Scoring is a
Fellegi-Sunter model: each field is compared at one of four levels (exact, close, different,
missing) and each level carries a log2 likelihood-ratio weight, log2(m / u), where m is how often
the level is seen between two records of the same person and u how often between two different
people. The weights were estimated on FEBRL dataset1 and rounded by hand; dataset2 was only used
to check them (see `bench/mpi.py`). Missing values weigh nothing, so a partial query is neither
rewarded nor punished for what it does not say.

Finding duplicates compares only the pairs that share at least one blocking key (phonetic family
name and birth year, postcode and initial, identifier, ...), so it grows with the sizes of the
blocks, not with the square of the number of records.

Reasons and exceptions name fields, never patient values.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

import jellyfish
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from policies.patients import DEMOGRAPHIC_FIELDS

POLICY_VERSION = "matching/1"

Level = Literal["exact", "close", "different", "missing"]
Classification = Literal["match", "possible", "non-match"]

EXACT: Final = "exact"
CLOSE: Final = "close"
DIFFERENT: Final = "different"
MISSING: Final = "missing"

FIELDS: Final = DEMOGRAPHIC_FIELDS
"""The fields compared, in `Demographics` order: every field of an index entry."""

# log2(m/u) per field and level. The FEBRL dataset1 estimates (m over its 500 true pairs, u over
# 200,000 random other pairs) are in the comments as exact / close / different; the chosen values
# are rounded and, where FEBRL is kinder than a real population, lowered:
# - names: as estimated, except `close`, lowered: real populations hold many more near-homonyms
#   (jamie/james, isabelle/isabella) than FEBRL's draw, so a typo is worth less than the name.
# - birth date: exact capped at 10 so that a family name and a birth date alone (17.5) stay below
#   the match threshold: that is also what a sibling or a twin looks like.
# - address: FEBRL draws street, locality, postcode and state independently (together ~37 bits);
#   in life they determine one another and a household shares them, so the four together give at
#   most 11 bits, and disagreeing costs little because people move.
# - identifier: u was 0 in the sample (> 17 bits), capped at 12 so that it needs one more agreeing
#   field for a match: identifiers get mis-keyed onto another patient or shared in a family.
# - sex and phone are not in FEBRL: sex m ~0.98, u ~0.5; phone like an address (a household's).
WEIGHTS: Final[dict[str, dict[str, float]]] = {
    # FEBRL: 7.4 / 6.2 / -3.2
    "given_name": {EXACT: 7.0, CLOSE: 4.0, DIFFERENT: -3.0, MISSING: 0.0},
    # FEBRL: 7.8 / 7.9 / -4.0
    "family_name": {EXACT: 7.5, CLOSE: 5.0, DIFFERENT: -4.0, MISSING: 0.0},
    # FEBRL: 14.4 / 2.8 / -4.3
    "birth_date": {EXACT: 10.0, CLOSE: 3.0, DIFFERENT: -4.5, MISSING: 0.0},
    "sex": {EXACT: 1.0, CLOSE: 0.0, DIFFERENT: -4.0, MISSING: 0.0},
    # FEBRL: 15.1 / 8.5 / -2.7
    "street": {EXACT: 5.0, CLOSE: 3.0, DIFFERENT: -1.0, MISSING: 0.0},
    # FEBRL: 9.8 / 9.1 / -4.0
    "locality": {EXACT: 2.5, CLOSE: 1.5, DIFFERENT: -1.0, MISSING: 0.0},
    # FEBRL: 9.7 / 3.6 / -6.4
    "postcode": {EXACT: 3.0, CLOSE: 1.0, DIFFERENT: -1.5, MISSING: 0.0},
    # FEBRL: 2.1 / - / -4.4
    "state": {EXACT: 0.5, CLOSE: 0.0, DIFFERENT: -1.0, MISSING: 0.0},
    "phone": {EXACT: 5.0, CLOSE: 2.0, DIFFERENT: -0.5, MISSING: 0.0},
    # FEBRL: > 17 / > 13 / -4.4
    "identifier": {EXACT: 12.0, CLOSE: 7.0, DIFFERENT: -4.5, MISSING: 0.0},
}
"""Missing weighs 0 everywhere: a partial record is neither rewarded nor punished for gaps."""

MATCH_THRESHOLD: Final = 18.0
"""At or above: the same person, worth proposing as a duplicate (unless a caution applies).

A full name and birth date (24.5) or an identifier and a name (19+) is a match; a full name alone
(14.5) or a family name and birth date (17.5) is not. On dataset1 no other pair scored above 4 and
99% of the true pairs score 18 or more: the cut sits on the side of precision.
"""

POSSIBLE_THRESHOLD: Final = 10.0
"""At or above (and below the match threshold, or under a caution): a human should look.

An identifier alone (12), a name alone, a given name and birth date (17) are possibles.
"""

NAME_CLOSE_JW: Final = 0.88
"""Jaro-Winkler similarity from which two names count as a typo of each other."""

PHONETIC_MIN_JW: Final = 0.70
"""Names that sound alike count as close only from this similarity: codes alone are too coarse
(NYSIIS codes `jesse` and `joshua` alike, Metaphone `joel` and `julia`)."""

TEXT_CLOSE_JW: Final = 0.90
"""Jaro-Winkler similarity from which two localities count as a typo of each other."""

STREET_CLOSE_RATIO: Final = 85.0
"""rapidfuzz token-sort ratio (0-100) from which two street lines count as close."""

MAX_BLOCK: Final = 250
"""Blocks larger than this are skipped: a key that common says little and costs n^2/2 pairs."""

# Common English nicknames and short forms, each to the full names it may stand for.
_NICKNAMES: Final[dict[str, tuple[str, ...]]] = {
    "abby": ("abigail",),
    "al": ("albert", "alan", "alfred"),
    "alex": ("alexander", "alexandra"),
    "ally": ("alison", "alexandra"),
    "andy": ("andrew",),
    "beth": ("elizabeth",),
    "betty": ("elizabeth",),
    "becky": ("rebecca",),
    "bec": ("rebecca",),
    "ben": ("benjamin",),
    "bill": ("william",),
    "billy": ("william",),
    "bob": ("robert",),
    "bobby": ("robert",),
    "cathy": ("catherine", "katherine"),
    "charlie": ("charles",),
    "chris": ("christopher", "christine", "christina"),
    "chuck": ("charles",),
    "dan": ("daniel",),
    "danny": ("daniel",),
    "dave": ("david",),
    "davy": ("david",),
    "deb": ("deborah",),
    "debbie": ("deborah",),
    "dick": ("richard",),
    "don": ("donald",),
    "drew": ("andrew",),
    "ed": ("edward",),
    "eddie": ("edward",),
    "em": ("emily", "emma"),
    "fred": ("frederick",),
    "greg": ("gregory",),
    "hank": ("henry",),
    "harry": ("henry", "harold"),
    "jack": ("john",),
    "jamie": ("james",),
    "jeff": ("jeffrey",),
    "jen": ("jennifer",),
    "jenny": ("jennifer",),
    "jess": ("jessica",),
    "jim": ("james",),
    "jimmy": ("james",),
    "joe": ("joseph",),
    "johnny": ("john",),
    "jon": ("jonathan", "john"),
    "josh": ("joshua",),
    "kate": ("katherine", "catherine"),
    "kath": ("katherine", "catherine"),
    "kathy": ("katherine", "catherine"),
    "katie": ("katherine", "catherine"),
    "ken": ("kenneth",),
    "kim": ("kimberley", "kimberly"),
    "larry": ("lawrence",),
    "libby": ("elizabeth",),
    "liz": ("elizabeth",),
    "lizzie": ("elizabeth",),
    "maggie": ("margaret",),
    "mandy": ("amanda",),
    "matt": ("matthew",),
    "meg": ("margaret",),
    "mel": ("melissa", "melanie"),
    "mick": ("michael",),
    "mike": ("michael",),
    "nat": ("natalie", "nathan", "nathaniel"),
    "nate": ("nathan", "nathaniel"),
    "nick": ("nicholas",),
    "pat": ("patrick", "patricia"),
    "peggy": ("margaret",),
    "pete": ("peter",),
    "phil": ("philip", "phillip"),
    "rick": ("richard",),
    "ricky": ("richard",),
    "rob": ("robert",),
    "robbie": ("robert",),
    "ron": ("ronald",),
    "sally": ("sarah",),
    "sam": ("samuel", "samantha"),
    "steph": ("stephanie",),
    "steve": ("stephen", "steven"),
    "sue": ("susan",),
    "susie": ("susan",),
    "tash": ("natasha",),
    "ted": ("edward", "theodore"),
    "terry": ("terence", "teresa"),
    "tess": ("teresa",),
    "tim": ("timothy",),
    "tom": ("thomas",),
    "tommy": ("thomas",),
    "tony": ("anthony",),
    "vicky": ("victoria",),
    "will": ("william",),
    "zach": ("zachary",),
}

_STREET_WORDS: Final[dict[str, str]] = {
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "cres": "crescent",
    "cct": "circuit",
    "pl": "place",
    "ct": "court",
    "cl": "close",
    "hwy": "highway",
    "pde": "parade",
    "tce": "terrace",
    "ln": "lane",
    "blvd": "boulevard",
}

_SEXES: Final[dict[str, str]] = {
    "f": "f",
    "female": "f",
    "woman": "f",
    "m": "m",
    "male": "m",
    "man": "m",
    "u": "",
    "unknown": "",
}

_DROPPED: Final = frozenset("'\u2019`")


def _clean(text: str | None) -> str:
    """Case-folded, accents and punctuation dropped, single spaces: typing habits do not count."""
    if not text:
        return ""
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char) or char in _DROPPED:
            continue
        out.append(char if char.isalnum() else " ")
    return " ".join("".join(out).casefold().split())


def _clean_name(text: str | None) -> str:
    """A cleaned name without digits: no one's name has them, though test data adds them."""
    return " ".join("".join(c for c in _clean(text) if not c.isdigit()).split())


def _compact(text: str | None) -> str:
    """Letters and digits only: spacing and dashes in codes and numbers are formatting."""
    return _clean(text).replace(" ", "")


def _phonetic(name: str) -> tuple[str, str]:
    """NYSIIS and Metaphone codes of the name as one word; empty when there is nothing to code.

    NYSIIS is coarse (good for blocking), Metaphone finer (better evidence when scoring).
    """
    letters = "".join(char for char in name if char.isalpha())
    if not letters:
        return ("", "")
    return (jellyfish.nysiis(letters), jellyfish.metaphone(letters))


@dataclass(frozen=True)
class Demographics:
    """What the master patient index matches on; any field may be missing (None or empty)."""

    given_name: str = ""
    family_name: str = ""
    birth_date: date | None = None
    sex: str | None = None
    street: str | None = None
    locality: str | None = None
    postcode: str | None = None
    state: str | None = None
    phone: str | None = None
    identifier: str | None = None

    def normalise(self) -> NormalisedDemographics:
        """Clean every field once, so that comparing n records costs no repeated cleaning."""
        given = _clean_name(self.given_name)
        family = _clean_name(self.family_name)
        sex = _clean(self.sex)
        street = " ".join(_STREET_WORDS.get(word, word) for word in _clean(self.street).split())
        names: set[str] = set()
        for part in given.split():
            names.add(part)
            names.update(_NICKNAMES.get(part, ()))
        born = self.birth_date
        return NormalisedDemographics(
            given_name=given,
            family_name=family,
            given_names=frozenset(names),
            given_codes=_phonetic(given),
            family_codes=_phonetic(family),
            birth_date=born,
            birth_digits=born.strftime("%Y%m%d") if born is not None else "",
            sex=_SEXES.get(sex, sex),
            street=street,
            locality=_clean(self.locality),
            postcode=_compact(self.postcode),
            state=_clean(self.state),
            phone="".join(char for char in _clean(self.phone) if char.isdigit()),
            identifier=_compact(self.identifier),
        )


@dataclass(frozen=True, slots=True)
class NormalisedDemographics:
    """A record as compared: cleaned text (empty = missing), nickname expansions, phonetic codes."""

    given_name: str
    family_name: str
    given_names: frozenset[str]
    given_codes: tuple[str, str]
    family_codes: tuple[str, str]
    birth_date: date | None
    birth_digits: str
    sex: str
    street: str
    locality: str
    postcode: str
    state: str
    phone: str
    identifier: str


Record = Demographics | NormalisedDemographics


def _normalised(record: Record) -> NormalisedDemographics:
    return record if isinstance(record, NormalisedDemographics) else record.normalise()


@dataclass(frozen=True, slots=True)
class FieldScore:
    """How one field compared: its level, the weight that level adds, and in words why."""

    field: str
    level: Level
    weight: float
    similarity: float
    note: str


@dataclass(frozen=True, slots=True)
class MatchScore:
    """The sum of the field weights, the breakdown, and the class the thresholds give it."""

    total: float
    fields: tuple[FieldScore, ...]
    classification: Classification
    caution: str = ""
    policy_version: str = POLICY_VERSION

    def field(self, name: str) -> FieldScore:
        """The breakdown of one field, by name."""
        for item in self.fields:
            if item.field == name:
                return item
        raise KeyError(name)

    @property
    def agreed(self) -> tuple[str, ...]:
        """Fields that agreed exactly or closely."""
        return tuple(f.field for f in self.fields if f.level in (EXACT, CLOSE))

    @property
    def disagreed(self) -> tuple[str, ...]:
        """Fields present on both sides that differ."""
        return tuple(f.field for f in self.fields if f.level == DIFFERENT)

    @property
    def missing(self) -> tuple[str, ...]:
        """Fields absent on at least one side (they weigh nothing)."""
        return tuple(f.field for f in self.fields if f.level == MISSING)

    @property
    def similarity(self) -> float:
        """Sum of the field similarities: orders scores that tie on the total."""
        return sum(f.similarity for f in self.fields)

    @property
    def reason(self) -> str:
        """The classification in words, naming fields but no values."""
        parts = [f"{self.classification} (score {self.total:.1f})"]
        exact = [f.field for f in self.fields if f.level == EXACT]
        close = [f"{f.field} ({f.note})" for f in self.fields if f.level == CLOSE]
        if exact:
            parts.append("same " + ", ".join(exact))
        if close:
            parts.append("close " + ", ".join(close))
        if self.disagreed:
            parts.append("different " + ", ".join(self.disagreed))
        if self.caution:
            parts.append(self.caution)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class PairDecision:
    """Two records (indexes into the input, left < right) and how they scored."""

    left: int
    right: int
    score: MatchScore

    @property
    def classification(self) -> Classification:
        """The pair's class: match, possible or non-match."""
        return self.score.classification

    @property
    def reason(self) -> str:
        """Why, in words, without patient values."""
        return self.score.reason


# -- field comparisons ----------------------------------------------------------------------

Comparison = tuple[Level, float, str]

_MISSING: Final[Comparison] = (MISSING, 0.0, "missing on one side")
_SAME: Final[Comparison] = (EXACT, 1.0, "same")


def _ordered(a: str, b: str) -> tuple[str, str]:
    """The two strings in a fixed order, so that every comparison is symmetric to the bit."""
    return (a, b) if a <= b else (b, a)


def _jaro_winkler(a: str, b: str) -> float:
    x, y = _ordered(a, b)
    return float(JaroWinkler.similarity(x, y))


def _edits(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap neighbours) from one string to the other."""
    x, y = _ordered(a, b)
    return int(OSA.distance(x, y))


def compare_name(
    a: str, b: str, codes_a: tuple[str, ...] = (), codes_b: tuple[str, ...] = ()
) -> Comparison:
    """Two cleaned names: same, a typo apart, alike in sound, sharing a part, or different.

    `codes_a` and `codes_b` are phonetic codes of the names, position by position.
    """
    if not a or not b:
        return _MISSING
    if a == b:
        return _SAME
    similarity = _jaro_winkler(a, b)
    parts_a, parts_b = set(a.split()), set(b.split())
    if (parts_a < parts_b or parts_b < parts_a) and any(len(p) > 1 for p in parts_a & parts_b):
        return (CLOSE, similarity, "one name is part of the other")
    if similarity >= NAME_CLOSE_JW:
        return (CLOSE, similarity, "spelling differs slightly")
    if similarity >= PHONETIC_MIN_JW and any(
        x and x == y for x, y in zip(codes_a, codes_b, strict=False)
    ):
        return (CLOSE, similarity, "sounds alike")
    if any(len(part) > 1 for part in parts_a & parts_b):
        return (CLOSE, similarity, "one name part in common")
    return (DIFFERENT, similarity, "different")


def compare_given_names(a: NormalisedDemographics, b: NormalisedDemographics) -> Comparison:
    """Given names also agree closely when one is a common nickname of the other."""
    result = compare_name(a.given_name, b.given_name, a.given_codes, b.given_codes)
    if result[0] != DIFFERENT:
        return result
    if a.given_names & b.given_names:
        return (CLOSE, result[1], "nickname")
    parts_a, parts_b = a.given_name.split(), b.given_name.split()
    if len(parts_a) > 1 or len(parts_b) > 1:  # a middle name on one side only, and a typo
        best = max(_jaro_winkler(x, y) for x in parts_a for y in parts_b)
        if best >= NAME_CLOSE_JW:
            return (CLOSE, best, "one given name spelt slightly differently")
    return result


_RANK: Final[dict[str, int]] = {MISSING: 0, DIFFERENT: 1, CLOSE: 2, EXACT: 3}


def compare_names(
    a: NormalisedDemographics, b: NormalisedDemographics
) -> tuple[Comparison, Comparison]:
    """Given and family names, allowing for the two having been entered the other way round."""
    given = compare_given_names(a, b)
    family = compare_name(a.family_name, b.family_name, a.family_codes, b.family_codes)
    if given[0] == EXACT and family[0] == EXACT:
        return given, family
    cross_1 = compare_name(a.given_name, b.family_name, a.given_codes, b.family_codes)
    cross_2 = compare_name(a.family_name, b.given_name, a.family_codes, b.given_codes)
    straight = _RANK[given[0]] + _RANK[family[0]]
    crossed = _RANK[cross_1[0]] + _RANK[cross_2[0]]
    if min(_RANK[cross_1[0]], _RANK[cross_2[0]]) >= _RANK[CLOSE] and crossed > straight:
        # Both fields get the same level, so the total does not depend on which record is `a`.
        similarity = (cross_1[1] + cross_2[1]) / 2
        swapped: Comparison = (CLOSE, similarity, "given and family names swapped")
        return swapped, swapped
    return given, family


def compare_birth_dates(a: date | None, b: date | None) -> Comparison:
    """Same date, or one typing slip: day and month swapped, one digit wrong, two swapped."""
    if a is None or b is None:
        return _MISSING
    if a == b:
        return _SAME
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return (CLOSE, 0.9, "day and month transposed")
    edits = _edits(a.strftime("%Y%m%d"), b.strftime("%Y%m%d"))
    if edits == 1:
        return (CLOSE, 0.875, "one digit or two neighbouring digits differ")
    return (DIFFERENT, max(0.0, 1 - edits / 8), "different")


def compare_codes(a: str, b: str, *, min_length: int = 4) -> Comparison:
    """Identifiers, postcodes: same, or one typo apart (one digit wrong, missing or swapped)."""
    if not a or not b:
        return _MISSING
    if a == b:
        return _SAME
    edits = _edits(a, b)
    longest = max(len(a), len(b))
    similarity = max(0.0, 1 - edits / longest)
    if edits == 1 and min(len(a), len(b)) >= min_length:
        return (CLOSE, similarity, "one character differs")
    return (DIFFERENT, similarity, "different")


def compare_phones(a: str, b: str) -> Comparison:
    """Phone digits: same, same local number (area or country code added), or one typo."""
    if not a or not b:
        return _MISSING
    if a == b:
        return _SAME
    if len(a) >= 8 and len(b) >= 8 and a[-8:] == b[-8:]:
        return (CLOSE, 0.95, "same local number")
    return compare_codes(a, b, min_length=6)


def compare_text(a: str, b: str) -> Comparison:
    """Localities and the like: same, or a typo apart by Jaro-Winkler."""
    if not a or not b:
        return _MISSING
    if a == b:
        return _SAME
    similarity = _jaro_winkler(a, b)
    if similarity >= TEXT_CLOSE_JW:
        return (CLOSE, similarity, "spelling differs slightly")
    return (DIFFERENT, similarity, "different")


def compare_streets(a: str, b: str) -> Comparison:
    """Street lines: word order and small typos tolerated, as in `12 main street` and `main st`."""
    if not a or not b:
        return _MISSING
    if a == b:
        return _SAME
    x, y = _ordered(a, b)
    similarity = float(fuzz.token_sort_ratio(x, y)) / 100
    if similarity * 100 >= STREET_CLOSE_RATIO:
        return (CLOSE, similarity, "spelling or number differs slightly")
    if float(fuzz.token_set_ratio(x, y)) >= 100:
        return (CLOSE, similarity, "one line contains the other")
    return (DIFFERENT, similarity, "different")


def compare_exact(a: str, b: str) -> Comparison:
    """Short coded values (sex, state): same or different, nothing in between."""
    if not a or not b:
        return _MISSING
    return _SAME if a == b else (DIFFERENT, 0.0, "different")


# -- scoring --------------------------------------------------------------------------------


def classify(total: float) -> Classification:
    """Two thresholds split the scores into match, possible (for a human) and non-match."""
    if total >= MATCH_THRESHOLD:
        return "match"
    if total >= POSSIBLE_THRESHOLD:
        return "possible"
    return "non-match"


def _compare_all(a: NormalisedDemographics, b: NormalisedDemographics) -> list[Comparison]:
    given, family = compare_names(a, b)
    return [
        given,
        family,
        compare_birth_dates(a.birth_date, b.birth_date),
        compare_exact(a.sex, b.sex),
        compare_streets(a.street, b.street),
        compare_text(a.locality, b.locality),
        compare_codes(a.postcode, b.postcode, min_length=3),
        compare_exact(a.state, b.state),
        compare_phones(a.phone, b.phone),
        compare_codes(a.identifier, b.identifier),
    ]


def caution(fields: Sequence[FieldScore]) -> str:
    """Why a high score should still go to a human: the look of two relatives, not one person.

    Field weights assume that fields err independently; relatives break that, sharing a family
    name, an address and sometimes a birth date. Unless an identifier agrees, two records whose
    given names differ on the same birth date (twins), or whose birth dates differ with the same
    names (a parent and child named alike), are at most a possible match.
    """
    level = {f.field: f.level for f in fields}
    if level["identifier"] in (EXACT, CLOSE) or level["family_name"] not in (EXACT, CLOSE):
        return ""
    if level["given_name"] == DIFFERENT and level["birth_date"] == EXACT:
        return "caution: given names differ on the same birth date (twins?)"
    if level["birth_date"] == DIFFERENT and level["given_name"] in (EXACT, CLOSE):
        return "caution: birth dates differ under the same name (relatives?)"
    return ""


def score(a: Record, b: Record) -> MatchScore:
    """How likely two records are the same person, field by field (symmetric in a and b)."""
    left, right = _normalised(a), _normalised(b)
    fields = tuple(
        FieldScore(name, level, WEIGHTS[name][level], similarity, note)
        for name, (level, similarity, note) in zip(FIELDS, _compare_all(left, right), strict=True)
    )
    total = round(sum(f.weight for f in fields), 6)
    classification = classify(total)
    warning = caution(fields)
    if warning and classification == "match":
        classification = "possible"
    return MatchScore(total, fields, classification, warning)


# -- blocking -------------------------------------------------------------------------------


def blocking_keys(record: Record) -> list[str]:
    """The keys under which a record is filed; two records are compared if they share one.

    Each key is cheap and exact, and each survives a different kind of error in the others:
    a typo in the family name is caught by the birth date or postcode keys, a wrong birth date
    by the name and postcode keys, swapped names by the sorted phonetic pair.
    """
    n = _normalised(record)
    keys: list[str] = []
    year = n.birth_digits[:4]
    given_initial = n.given_name[:1]
    family_initial = n.family_name[:1]
    given_code, family_code = n.given_codes[0], n.family_codes[0]
    if family_code and year:
        keys.append(f"family+year:{family_code}:{year}")
    if n.postcode and given_initial:
        keys.append(f"postcode+given:{n.postcode}:{given_initial}")
    if n.postcode and family_initial:
        keys.append(f"postcode+family:{n.postcode}:{family_initial}")
    if n.identifier:
        keys.append(f"identifier:{n.identifier}")
    if n.birth_digits:
        keys.append(f"birth:{n.birth_digits}")
    if given_code and family_initial:
        keys.append(f"given+family:{given_code}:{family_initial}")
    if given_code and family_code:
        keys.append("names:" + ":".join(sorted((given_code, family_code))))
    if n.phone:
        keys.append(f"phone:{n.phone[-8:]}")
    return keys


MAX_SEARCH_BLOCK: Final = 1000
"""A search skips a key shared by more patients than this (unless every key of the query is):
like `MAX_BLOCK`, a key that common says little, and scoring it would grow with the index."""


def _name_keys(n: NormalisedDemographics) -> list[str]:
    """One key per phonetic code of either name: a one-name or swapped-name search's keys."""
    codes = {code for code in (n.given_codes[0], n.family_codes[0]) if code}
    return [f"name:{code}" for code in sorted(codes)]


def index_keys(record: Record) -> list[str]:
    """The keys a patient index files a patient under: the blocking keys and each name's code.

    A search (`search_keys`) looks up candidates by these, so that it scores only the patients
    sharing a key with the query instead of every patient in the index.
    """
    n = _normalised(record)
    return list(dict.fromkeys([*blocking_keys(n), *_name_keys(n)]))


def search_keys(query: Record) -> list[str]:
    """The keys a (possibly partial) query looks candidates up by; empty when it has none.

    A query with a birth date (every registration's duplicate check) uses the blocking keys but
    the given name's code with the family initial: that block grows with the index (a common
    given name under one initial is ~0.1 % of everyone), and on FEBRL the others find every pair
    it does (`bench/mpi.py`). A query without a birth date keeps it and adds each name's code, so
    that a search by a name alone, or by two names the wrong way round, still finds candidates.
    """
    n = _normalised(query)
    keys = blocking_keys(n)
    if n.birth_date is None:
        keys += _name_keys(n)
    else:
        keys = [key for key in keys if not key.startswith("given+family:")]
    return list(dict.fromkeys(keys))


def _blocks(records: Sequence[NormalisedDemographics]) -> Iterable[list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for key in blocking_keys(record):
            blocks[key].append(index)
    return (block for block in blocks.values() if 1 < len(block) <= MAX_BLOCK)


def candidate_pairs(records: Sequence[Record]) -> set[tuple[int, int]]:
    """Index pairs (i < j) that share a blocking key: the only pairs worth scoring."""
    normalised = [_normalised(record) for record in records]
    return _pairs(normalised)


def _pairs(records: Sequence[NormalisedDemographics]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for block in _blocks(records):
        for position, i in enumerate(block):
            for j in block[position + 1 :]:
                pairs.add((i, j) if i < j else (j, i))
    return pairs


def _best_first(item: tuple[int, MatchScore] | PairDecision) -> tuple[float, float]:
    found = item.score if isinstance(item, PairDecision) else item[1]
    return (-found.total, -found.similarity)


def find_duplicates(
    records: Sequence[Record], *, threshold: float | None = None
) -> list[PairDecision]:
    """Likely duplicate pairs among `records`, best first.

    By default the pairs classified as a match; with a `threshold`, every pair whose total
    reaches it (`threshold=POSSIBLE_THRESHOLD` adds the pairs a human should review).
    """
    normalised = [_normalised(record) for record in records]
    found: list[PairDecision] = []
    for i, j in _pairs(normalised):
        result = score(normalised[i], normalised[j])
        if threshold is None:
            wanted = result.classification == "match"
        else:
            wanted = result.total >= threshold
        if wanted:
            found.append(PairDecision(i, j, result))
    found.sort(key=lambda d: (*_best_first(d), d.left, d.right))
    return found


def rank_candidates(
    query: Record, records: Sequence[Record], *, limit: int = 10
) -> list[tuple[int, MatchScore]]:
    """The records most like a (possibly partial) query, best first, for `patient find`.

    Every record is scored (linear in len(records)); fields the query leaves out weigh nothing.
    Only records with more evidence for than against (total > 0) are returned.
    """
    if limit <= 0:
        return []
    wanted = _normalised(query)
    scored = [(index, score(wanted, record)) for index, record in enumerate(records)]
    hits = [item for item in scored if item[1].total > 0]
    hits.sort(key=lambda item: (*_best_first(item), item[0]))
    return hits[:limit]
