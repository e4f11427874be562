"""The access policy (policies/access.py): each rule both ways, the configuration, and laws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.access import (
    DEFAULT_CONFIG,
    AccessConfig,
    AccessDecision,
    EncounterFacts,
    PatientFacts,
    decide,
    decide_charting,
    may_load_policy,
    may_read_audit_trail,
    treatment_relationship,
)
from policies.purposes import PURPOSES
from policies.roles import ROLES

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CONFIG = AccessConfig.from_mapping(
    {
        "version": "test.1",
        "patients": {"restricted": ["MR0000004"], "vip": ["mr0000007"]},
        "staff": {"tech1": {"patient_mrn": "MR0000012"}, "nurse9": {"family_name": "Okafor"}},
    }
)


def patient(mrn: str = "MR0000001", relationship: str | None = None) -> PatientFacts:
    return PatientFacts(mrn, relationship)


def test_a_restricted_record_shows_its_demographics_alone_to_a_reader_who_asks_so() -> None:
    """Rule 6 (issue 17, item 5): outside the care team a restricted record is demographics
    only. A read that shows only what was decided (`patient show`) gets them, the rest withheld
    and named; a read that would show everything it asked for is refused whole, as before."""
    wanted = ["demographics", "documents"]
    for roles, purpose, relationship in (
        (["technician"], "operations", None),
        (["technician"], "payment", None),
        (["nurse"], "treatment", "recent-encounter"),
    ):
        facts = patient("MR0000004", relationship)
        cut = decide(
            roles, purpose, patient=facts, sections=wanted, config=CONFIG, demographics_alone=True
        )
        assert cut.allowed and cut.sections == ("demographics",), (roles, cut)
        assert "restricted record: demographics only, documents withheld" in cut.reason
        whole = decide(roles, purpose, patient=facts, sections=wanted, config=CONFIG)
        assert not whole.allowed and "restricted" in whole.reason
        # Asking for no demographics leaves nothing to show: refused.
        assert not decide(
            roles,
            purpose,
            patient=facts,
            sections=["chart"],
            config=CONFIG,
            demographics_alone=True,
        ).allowed
    # The care team, and a record that is not restricted, see everything asked for.
    for facts in (patient("MR0000004", "care-team"), patient("MR0000001")):
        full = decide(
            ["nurse"] if facts.relationship else ["technician"],
            "treatment" if facts.relationship else "operations",
            patient=facts,
            sections=wanted,
            config=CONFIG,
            demographics_alone=True,
        )
        assert full.allowed and full.sections == tuple(wanted) and "withheld" not in full.reason
    # The rules before rule 6 still refuse (no treatment relationship, a research purpose).
    for roles, purpose in ((["nurse"], "treatment"), (["technician"], "research")):
        assert not decide(
            roles,
            purpose,
            patient=patient("MR0000004"),
            sections=wanted,
            config=CONFIG,
            demographics_alone=True,
        ).allowed


def test_an_unknown_purpose_is_refused() -> None:
    assert not decide(["physician"], "curiosity", patient=patient("MR1", "attending")).allowed
    assert decide(["physician"], "treatment", patient=patient("MR1", "attending")).allowed


def test_administrators_manage_the_ledger_and_never_read_charts() -> None:
    refused = decide(["administrator"], "operations", patient=patient())
    assert not refused.allowed and "administrators" in refused.reason
    assert decide(["administrator", "him-director"], "operations", patient=patient()).allowed


def test_roles_declare_only_their_purposes() -> None:
    assert decide(["coder"], "payment", patient=patient()).allowed
    refused = decide(["coder"], "legal", patient=patient())
    assert not refused.allowed and "does not allow legal" in refused.reason


@pytest.mark.parametrize("relationship", ["attending", "care-team", "recent-encounter"])
def test_treatment_by_a_clinician_needs_a_relationship(relationship: str) -> None:
    allowed = decide(["nurse"], "treatment", patient=patient("MR1", relationship))
    assert allowed.allowed and allowed.relationship == relationship
    refused = decide(["nurse"], "treatment", patient=patient("MR1", None))
    assert not refused.allowed and "no treatment relationship" in refused.reason
    # Other purposes do not need one (monitoring watches them instead).
    assert decide(["nurse"], "operations", patient=patient("MR1", None)).allowed


def test_break_the_glass_is_for_clinicians_with_a_reason_and_always_flagged() -> None:
    glass = decide(
        ["physician"], "research", break_glass_reason="cardiac arrest", patient=patient()
    )
    assert glass.allowed and glass.flagged and "break the glass" in glass.reason
    assert not decide(
        ["physician"], "treatment", break_glass_reason="  ", patient=patient()
    ).allowed
    refused = decide(["coder"], "legal", break_glass_reason="urgent", patient=patient())
    assert not refused.allowed and "clinical roles" in refused.reason


def test_restricted_records_are_for_the_care_team_beyond_demographics() -> None:
    wanted = ["chart"]
    for relationship in ("attending", "care-team"):
        assert decide(
            ["nurse"],
            "treatment",
            patient=patient("MR0000004", relationship),
            sections=wanted,
            config=CONFIG,
        ).allowed
    refused = decide(
        ["nurse"],
        "treatment",
        patient=patient("MR0000004", "recent-encounter"),
        sections=wanted,
        config=CONFIG,
    )
    assert not refused.allowed and "restricted" in refused.reason
    # Registration still finds them.
    assert decide(
        ["technician"],
        "operations",
        patient=patient("MR0000004"),
        sections=["demographics"],
        config=CONFIG,
    ).allowed
    glass = decide(
        ["nurse"],
        "treatment",
        break_glass_reason="unresponsive",
        patient=patient("MR0000004"),
        sections=wanted,
        config=CONFIG,
    )
    assert glass.allowed and glass.flagged


def test_vip_and_co_worker_records_are_allowed_but_flagged() -> None:
    vip = decide(["technician"], "operations", patient=patient("MR0000007"), config=CONFIG)
    assert vip.allowed and vip.flagged and "VIP" in vip.reason
    coworker = decide(
        ["technician"], "operations", actor="tech2", patient=patient("MR0000012"), config=CONFIG
    )
    assert coworker.allowed and coworker.flagged and "co-worker" in coworker.reason
    plain = decide(["technician"], "operations", patient=patient("MR0000001"), config=CONFIG)
    assert plain.allowed and not plain.flagged


def test_staff_may_not_read_their_own_chart() -> None:
    own = decide(
        ["technician"], "operations", actor="tech1", patient=patient("MR0000012"), config=CONFIG
    )
    assert not own.allowed and "own chart" in own.reason


def test_minimum_necessary_shows_only_what_the_purpose_may_see() -> None:
    payment = decide(
        ["coder"],
        "payment",
        patient=patient(),
        sections=["diagnosis", "medication", "demographics"],
    )
    assert payment.allowed and payment.sections == ("diagnosis", "demographics")
    refused = decide(["coder"], "payment", patient=patient(), sections=["medication"])
    assert not refused.allowed and "minimum necessary" in refused.reason
    everything = decide(
        ["physician"], "treatment", patient=patient("MR1", "attending"), sections=["medication"]
    )
    assert everything.sections == ("medication",)


def test_the_relationship_comes_from_current_and_recent_encounters() -> None:
    def encounter(attending: str, team: set[str], *, days_ago: int, open_: bool) -> EncounterFacts:
        admitted = NOW - timedelta(days=days_ago + 2)
        discharged = None if open_ else NOW - timedelta(days=days_ago)
        return EncounterFacts(attending, frozenset(team | {attending}), admitted, discharged)

    current = [encounter("doc1", {"nurse1"}, days_ago=0, open_=True)]
    assert treatment_relationship("doc1", current, now=NOW, window_days=30) == "attending"
    assert treatment_relationship("nurse1", current, now=NOW, window_days=30) == "care-team"
    assert treatment_relationship("nurse2", current, now=NOW, window_days=30) == "recent-encounter"
    old = [encounter("doc1", {"nurse1"}, days_ago=31, open_=False)]
    assert treatment_relationship("doc1", old, now=NOW, window_days=30) is None
    edge = [encounter("doc1", set(), days_ago=30, open_=False)]
    assert treatment_relationship("doc1", edge, now=NOW, window_days=30) == "attending"
    assert treatment_relationship("doc1", [], now=NOW, window_days=30) is None


def test_the_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="unknown role 'wizard'"):
        AccessConfig.from_mapping({"roles": {"wizard": ["treatment"]}})
    with pytest.raises(ValueError, match="unknown purpose 'curiosity'"):
        AccessConfig.from_mapping({"roles": {"nurse": ["curiosity"]}})
    with pytest.raises(ValueError, match="window_days"):
        AccessConfig.from_mapping({"treatment": {"window_days": -1}})
    with pytest.raises(ValueError, match="list of strings"):
        AccessConfig.from_mapping({"patients": {"vip": "MR1"}})
    assert CONFIG.policy_version == "access/2+test.1"
    assert CONFIG.vip == frozenset({"MR0000007"})  # MRNs are upper-cased
    assert DEFAULT_CONFIG.policy_version == "access/2+default"


def test_who_reads_the_trail_and_who_sets_the_policy() -> None:
    assert may_read_audit_trail(["compliance-officer"]).allowed
    assert not may_read_audit_trail(["physician"]).allowed
    assert may_load_policy(["administrator"]).allowed
    assert not may_load_policy(["him-director"]).allowed


roles = st.lists(st.sampled_from(sorted(ROLES)), min_size=1, max_size=3)
purposes = st.sampled_from(sorted(PURPOSES))
relationships = st.sampled_from([None, "attending", "care-team", "recent-encounter"])


@given(roles, purposes, relationships)
def test_nothing_outside_a_roles_purposes_is_allowed_without_the_glass(
    held: list[str], purpose: str, relationship: str | None
) -> None:
    decision = decide(held, purpose, patient=patient("MR1", relationship))
    if decision.allowed:
        assert any(purpose in DEFAULT_CONFIG.roles.get(role, ()) for role in held)
        assert not decision.flagged


@given(st.sampled_from(["physician", "nurse"]), purposes, relationships, st.text(min_size=1))
def test_a_clinician_breaking_the_glass_with_a_reason_is_always_allowed_and_flagged(
    role: str, purpose: str, relationship: str | None, reason: str
) -> None:
    decision = decide(
        [role], purpose, break_glass_reason=f"x{reason}", patient=patient("MR1", relationship)
    )
    assert decision.allowed and decision.flagged


def test_an_admission_naming_oneself_attending_without_a_relationship_breaks_the_glass() -> None:
    from policies.access import AccessConfig, PatientFacts, decide_admission

    config = AccessConfig(restricted=frozenset({"MR1"}), vip=frozenset({"MR2"}))

    def admit(mrn: str, relationship: str | None, **kw: object) -> object:
        return decide_admission(
            ["physician"], patient=PatientFacts(mrn, relationship), config=config, **kw
        )  # type: ignore[arg-type]

    for_other = admit("MR3", None, actor="tech1", attending="dr1")
    assert for_other.allowed and not for_other.flagged  # type: ignore[attr-defined]
    for mrn, relationship in [("MR3", None), ("MR1", "recent-encounter"), ("MR2", None)]:
        refused = admit(mrn, relationship, actor="dr1", attending="dr1")
        assert not refused.allowed and "--break-glass" in refused.reason  # type: ignore[attr-defined]
        glass = admit(mrn, relationship, actor="dr1", attending="dr1", break_glass_reason="night")
        assert glass.allowed and glass.flagged  # type: ignore[attr-defined]
    own = admit("MR1", "attending", actor="dr1", attending="dr1")
    assert own.allowed and not own.flagged  # type: ignore[attr-defined]
    lenient = AccessConfig.from_mapping({"access": {"self_admission": "restricted"}})
    plain = decide_admission(
        ["physician"], actor="dr1", attending="dr1", patient=PatientFacts("MR3"), config=lenient
    )
    assert plain.allowed and not plain.flagged
    coder = decide_admission(["coder"], actor="c", attending="dr1", patient=PatientFacts("MR3"))
    assert not coder.allowed and "may open" in coder.reason


def test_a_self_assigned_encounter_is_no_close_relationship_to_a_restricted_patient() -> None:
    from datetime import UTC, datetime, timedelta

    from policies.access import EncounterFacts, treatment_relationship

    now = datetime.now(UTC)
    mine = EncounterFacts(
        "dr1", frozenset({"dr1"}), now - timedelta(hours=1), None, frozenset({"dr1"})
    )
    given = EncounterFacts("dr1", frozenset({"dr1"}), now - timedelta(hours=1), None)
    assert treatment_relationship("dr1", [mine], now=now, window_days=30) == "attending"
    assert (
        treatment_relationship("dr1", [mine], now=now, window_days=30, restricted=True)
        == "recent-encounter"
    )
    assert (
        treatment_relationship("dr1", [mine, given], now=now, window_days=30, restricted=True)
        == "attending"
    )


def test_charting_needs_the_relationship_a_treatment_read_needs() -> None:
    ward = EncounterFacts(
        "doc1", frozenset({"doc1", "tech1"}), NOW - timedelta(days=60), NOW - timedelta(days=50)
    )

    def chart(roles: list[str], actor: str, mrn: str, rel: str | None, **kw: str) -> AccessDecision:
        return decide_charting(
            roles,
            actor=actor,
            patient=PatientFacts(mrn, rel),
            encounter=ward,
            config=CONFIG,
            **kw,  # type: ignore[arg-type]
        )

    plain = chart(["physician"], "doc2", "MR1", "recent-encounter")
    assert plain.allowed and not plain.flagged
    none = chart(["physician"], "doc2", "MR1", None)
    assert not none.allowed and "no treatment relationship" in none.reason
    restricted = chart(["nurse"], "nurse2", "MR0000004", "recent-encounter")
    assert not restricted.allowed and "restricted" in restricted.reason
    glass = chart(["nurse"], "nurse2", "MR0000004", None, break_glass_reason="arrest")
    assert glass.allowed and glass.flagged
    assert not chart(["physician"], "doc2", "MR0000004", None, break_glass_reason=" ").allowed
    # The encounter's own attending, outside the window, on a restricted patient: allowed.
    own = chart(["physician"], "doc1", "MR0000004", None)
    assert own.allowed and own.relationship == "attending"
    # ... unless they made themself attending of it.
    made = EncounterFacts("doc1", frozenset({"doc1"}), NOW, None, self_assigned=frozenset({"doc1"}))
    assert not decide_charting(
        ["physician"], actor="doc1", patient=PatientFacts("MR0000004", None), encounter=made,
        config=CONFIG,
    ).allowed  # fmt: skip
    # Technicians and interfaces: the charting role rules decide; a VIP chart is flagged.
    assert chart(["technician"], "tech9", "MR0000004", None).allowed
    assert chart(["interface"], "lab", "MR0000004", None).allowed
    assert chart(["physician"], "doc1", "MR0000007", None).flagged
    staff_own = chart(["nurse"], "tech1", "MR0000012", "attending")
    assert not staff_own.allowed


@pytest.mark.parametrize("action", ["admission", "transfer", "discharge"])
def test_a_clinician_moving_a_guarded_patient_without_a_close_relationship_breaks_the_glass(
    action: str,
) -> None:
    from policies.access import AccessConfig, decide_admission

    config = AccessConfig(restricted=frozenset({"MR1"}), vip=frozenset({"MR2"}))

    def move(roles: list[str], mrn: str, rel: str | None, **kw: str) -> AccessDecision:
        return decide_admission(
            roles, actor="x", attending=None if action != "admission" else "dr1",
            patient=PatientFacts(mrn, rel), config=config, action=action, **kw,  # type: ignore[arg-type]
        )  # fmt: skip

    for roles in (["physician"], ["nurse"], ["nurse", "technician"]):
        for mrn, rel in [("MR1", None), ("MR1", "recent-encounter"), ("MR2", None)]:
            refused = move(roles, mrn, rel)
            assert not refused.allowed and "--break-glass" in refused.reason
            assert "care team" in refused.reason
            glass = move(roles, mrn, rel, break_glass_reason="night")
            assert glass.allowed and glass.flagged and glass.sections == ("encounters",)
        for rel in ("attending", "care-team"):  # a close relationship someone else gave
            assert not move(roles, "MR1", rel).flagged
        plain = move(roles, "MR3", None)  # an ordinary patient: unchanged
        assert plain.allowed and not plain.flagged
    for roles in (["technician"], ["interface"]):  # they move for the attending they name
        assert move(roles, "MR1", None).allowed and not move(roles, "MR1", None).flagged


def test_a_place_made_by_ones_own_move_is_no_close_relationship_to_a_restricted_patient() -> None:
    moved = EncounterFacts(
        "dr1", frozenset({"dr1", "n1"}), NOW - timedelta(hours=1), None, frozenset({"n1"})
    )
    assert treatment_relationship("n1", [moved], now=NOW, window_days=30) == "care-team"
    assert (
        treatment_relationship("n1", [moved], now=NOW, window_days=30, restricted=True)
        == "recent-encounter"
    )
    assert (
        treatment_relationship("dr1", [moved], now=NOW, window_days=30, restricted=True)
        == "attending"
    )
