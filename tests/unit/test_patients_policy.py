"""The master patient index's rules and words (`policies/patients.py`, `policies/purposes.py`)
and the invariants its aggregates keep (`Patient.merge`/`unmerge`, `User`'s enrolment, reinstatement
and revocation), in memory: every rule both ways, with its sentence."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

import pytest

from ledger.aggregates.patient import Patient
from ledger.aggregates.user import User
from ledger.errors import ConflictError, NotAuthorised, UsageError
from ledger.verifier.identities import code_hash, user_id
from policies import access, matching
from policies.limits import Limits
from policies.patients import DEMOGRAPHIC_FIELDS, SEXES, demographics_problem
from policies.purposes import PURPOSES

TODAY = date(2026, 6, 1)
ADA = {"given_name": "Ada", "family_name": "Okafor", "birth_date": date(1980, 3, 4)}


def test_plausible_demographics_have_no_problem() -> None:
    assert demographics_problem(ADA, today=TODAY) is None
    for sex in SEXES:
        assert demographics_problem({**ADA, "sex": sex}, today=TODAY) is None
    assert demographics_problem({**ADA, "birth_date": None}, today=TODAY) is None
    assert demographics_problem({**ADA, "birth_date": TODAY}, today=TODAY) is None


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"given_name": " "}, "A patient needs a given name."),
        ({"given_name": None}, "A patient needs a given name."),
        ({"family_name": ""}, "A patient needs a family name."),
        ({"birth_date": "1980-03-04"}, "The date of birth must be a date (YYYY-MM-DD)."),
        ({"birth_date": date(2026, 6, 2)}, "The date of birth is not a plausible date."),
        ({"birth_date": date(1879, 12, 31)}, "The date of birth is not a plausible date."),
        ({"sex": "f"}, "Sex must be female, male, other or unknown."),
    ],
)
def test_each_implausible_demographic_is_one_sentence(
    change: dict[str, object], sentence: str
) -> None:
    assert demographics_problem({**ADA, **change}, today=TODAY) == sentence


def test_names_and_fields_are_bounded_by_their_own_limits() -> None:
    limits = Limits(name_chars=6, field_chars=8)
    assert demographics_problem({**ADA, "street": "1 Lane"}, today=TODAY, limits=limits) is None
    too_long = demographics_problem({**ADA, "given_name": "Adaezee"}, today=TODAY, limits=limits)
    assert too_long is not None and "given name" in too_long
    street = demographics_problem({**ADA, "street": "12 Long Rd"}, today=TODAY, limits=limits)
    assert street is not None and "street" in street
    forged = demographics_problem({**ADA, "family_name": "Oka\nfor"}, today=TODAY)
    assert forged is not None and "family name" in forged
    listed = demographics_problem({**ADA, "phone": ["ok", "bad\x1b"]}, today=TODAY)
    assert listed is not None and "phone" in listed


def test_the_vocabularies_are_the_ones_the_rules_use() -> None:
    assert [f.name for f in fields(matching.Demographics)] == list(DEMOGRAPHIC_FIELDS)
    assert matching.FIELDS == DEMOGRAPHIC_FIELDS
    assert access.PURPOSES is PURPOSES and len(set(PURPOSES)) == len(PURPOSES)
    assert access.OVERSIGHT_PURPOSES <= set(PURPOSES)


def patient(mrn: str) -> Patient:
    return Patient.register(
        mrn, {"given_name": "A", "family_name": mrn}, actor="t", likely_matches=[], override=None
    )


def test_a_merge_records_both_sides_and_refuses_what_is_already_merged() -> None:
    survivor, retired, third = patient("MR1"), patient("MR2"), patient("MR3")
    with pytest.raises(UsageError, match=r"^A record cannot be merged into itself\.$"):
        Patient.merge(survivor, survivor, reason="same", actor="t")
    Patient.merge(survivor, retired, reason="same person", actor="t")
    assert retired.merged_into == "MR1" and survivor.absorbed == ["MR2"]
    with pytest.raises(UsageError, match=r"^MR2 was already merged into MR1\.$"):
        Patient.merge(third, retired, reason="again", actor="t")
    with pytest.raises(UsageError, match=r"^MR2 was already merged into MR1\.$"):
        Patient.merge(retired, third, reason="again", actor="t")
    assert len(third.pending_events) == 1  # only its registration: nothing was triggered


def test_an_unmerge_needs_that_merge_and_is_recorded_on_both() -> None:
    survivor, retired = patient("MR1"), patient("MR2")
    with pytest.raises(UsageError, match=r"^MR2 is not merged into MR1\.$"):
        Patient.unmerge(survivor, retired, reason="wrong", actor="t")
    Patient.merge(survivor, retired, reason="same person", actor="t")
    Patient.unmerge(survivor, retired, reason="twins", actor="t")
    assert retired.merged_into is None and survivor.absorbed == []
    assert isinstance(retired.pending_events[-1], Patient.MergeUndone)
    assert isinstance(survivor.pending_events[-1], Patient.MergeUndone)


NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def invited(code: str = "AAAAA-BBBBB") -> User:
    return User.invite(
        "dr.a", ["physician"], code_hash(user_id("dr.a"), code), NOW + timedelta(hours=1), actor="x"
    )


def test_an_enrolment_needs_the_invitations_code_before_it_expires() -> None:
    with pytest.raises(NotAuthorised, match=r"not the enrolment code issued for user 'dr\.a'"):
        invited().enrol(b"k" * 32, "CCCCC-DDDDD", "none", now=NOW)
    with pytest.raises(NotAuthorised, match=r"enrolment code for user 'dr\.a' has expired"):
        invited().enrol(b"k" * 32, "AAAAA-BBBBB", "none", now=NOW + timedelta(hours=2))
    user = invited()
    user.enrol(b"k" * 32, "AAAAA-BBBBB", "none", now=NOW)
    assert user.public_key == b"k" * 32 and user.invitation is None
    with pytest.raises(ConflictError, match=r"code for user 'dr\.a' was already used"):
        user.enrol(b"j" * 32, "AAAAA-BBBBB", "none", now=NOW)


def test_only_a_revoked_user_is_reinstated_once_and_only_a_key_is_revoked() -> None:
    user = invited()
    with pytest.raises(UsageError, match=r"'dr\.a' has not enrolled yet; there is no key"):
        user.revoke_key("left", actor="x")
    user.enrol(b"k" * 32, "AAAAA-BBBBB", "none", now=NOW)
    with pytest.raises(UsageError, match=r"'dr\.a' is not revoked; only a revoked user"):
        user.reinstate("back", b"h", NOW, actor="x")
    user.revoke_key("left", actor="x")
    with pytest.raises(UsageError, match=r"key of user 'dr\.a' is already revoked"):
        user.revoke_key("again", actor="x")
    with pytest.raises(NotAuthorised, match=r"'dr\.a' is revoked; an administrator must reinstate"):
        user.enrol(b"j" * 32, "AAAAA-BBBBB", "none", now=NOW)
    user.reinstate("back", b"h", NOW, actor="x")
    with pytest.raises(UsageError, match=r"'dr\.a' was reinstated already and has not enrolled"):
        user.reinstate("twice", b"h", NOW, actor="x")
