"""The patient index's key table: search scores candidates only, the keys follow corrections,
one patient can be purged, and on PostgreSQL the candidate query runs on the indexes."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.aggregates.patient import patient_id
from ledger.commands import patients
from ledger.follower import Follower
from ledger.reads.patient_index import PatientIndex, ranked
from policies.matching import index_keys, search_keys
from tests.conftest import Hospital
from tests.integration.test_patients import ADA, BEN, staff

ADAH = {"given_name": "Adah", "family_name": "Okafor", "birth_date": date(1961, 4, 2)}


def _index(hospital: Hospital) -> PatientIndex:
    index = PatientIndex(hospital.ledger.db)
    Follower(hospital.ledger, [index]).catch_up()
    return index


def _found(index: PatientIndex, query: dict[str, Any]) -> list[str]:
    return [p.mrn for p, _ in ranked(index, query, 10)]


def _keys_of(index: PatientIndex, mrn: str) -> list[str]:
    with index.db.transaction(commit=False) as cur:
        cur.execute(
            f"SELECT key FROM {index.keys} WHERE patient_id=? ORDER BY key",
            (patient_id(mrn).hex,),
        )
        return [str(row["key"]) for row in cur.fetchall()]


def test_each_patient_is_filed_under_its_keys_and_search_takes_candidates_only(
    hospital: Hospital,
) -> None:
    tech = staff(hospital, "tech1", "technician")
    ada = patients.register_patient(hospital.ledger, ADA, actor=tech, likely_matches=[])
    ben = patients.register_patient(hospital.ledger, BEN, actor=tech, likely_matches=[])
    index = _index(hospital)
    from ledger.reads.patient_index import matching_demographics

    assert _keys_of(index, ada) == sorted(index_keys(matching_demographics(ADA)))
    candidates = index.candidates(search_keys(matching_demographics(ADAH)))
    assert [p.mrn for p in candidates] == [ada]  # Ben shares no key: never scored
    assert _found(index, {"family_name": "Okafr", "given_name": "Ada"}) == [ada]
    assert _found(index, {"given_name": "Salo", "family_name": "Ben"}) == [ben]  # swapped
    assert _found(index, {"birth_date": date(1990, 1, 30)}) == [ben]
    assert _found(index, {"sex": "male"}) == []  # no key: nothing to look up


def test_a_correction_files_the_patient_under_the_new_keys(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    ben = patients.register_patient(ledger, BEN, actor=tech, likely_matches=[])
    patients.correct_demographics(
        ledger, ben, {"family_name": "Moreau"}, reason="married name", actor=tech
    )
    index = _index(hospital)
    assert _found(index, {"family_name": "Moreau"}) == [ben]
    assert _found(index, {"family_name": "Salo"}) == []
    assert not [k for k in _keys_of(index, ben) if "SAL" in k]


def test_purging_one_patient_leaves_the_others(hospital: Hospital) -> None:
    tech = staff(hospital, "tech1", "technician")
    ledger = hospital.ledger
    ada = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    ben = patients.register_patient(ledger, BEN, actor=tech, likely_matches=[])
    adah = patients.register_patient(
        ledger, ADAH, actor=tech, likely_matches=[ada], override="twin sister"
    )
    index = _index(hospital)
    assert _found(index, ADA) == [ada, adah]
    with ledger.db.transaction(commit=True) as cur:
        index.purge(cur, patient_id(ada).hex)
    assert _found(index, ADA) == [adah]
    assert _found(index, {"family_name": "Okafor"}) == [adah]
    assert index.get(ada) is None and _keys_of(index, ada) == []
    assert _found(index, BEN) == [ben] and _keys_of(index, ben)
    assert [p.mrn for p in index.all()] == [ben, adah]
    Follower(hospital.reopen(), [PatientIndex(hospital.ledger.db)]).catch_up()
    assert PatientIndex(hospital.ledger.db).get(ada) is None  # the follower does not refile it


def test_the_candidate_query_uses_the_indexes_on_postgresql(hospital: Hospital) -> None:
    index = _index(hospital)
    db = index.db
    if not db.is_postgres:
        return  # SQLite's planner has no statistics to mislead it; PostgreSQL's is checked
    with db.transaction(commit=True) as cur:  # 50,000 patients, 8 keys each
        cur.execute(
            f"INSERT INTO {index.table} (mrn, patient_id, given_name, family_name,"
            " registered_at) SELECT 'SY' || i, md5(i::text), 'G' || i, 'F' || mod(i, 997),"
            " '2025-01-01' FROM generate_series(1, 50000) AS i"
        )
        cur.execute(
            f"INSERT INTO {index.keys} (key, patient_id) SELECT 'k' || j || ':' || mod(i, 5000),"
            " md5(i::text) FROM generate_series(1, 50000) AS i, generate_series(1, 8) AS j"
        )
        cur.execute(f"ANALYZE {index.table}")
        cur.execute(f"ANALYZE {index.keys}")
    keys = ["k1:17", "k2:4000", "k5:123", "k8:no-such-key"]
    for sql in (index.candidate_query(len(keys)), index.smallest_block_query(len(keys))):
        with db.transaction(commit=False) as cur:
            cur.execute("EXPLAIN " + sql, (*keys, 1000))
            plan = "\n".join(str(next(iter(dict(row).values()))) for row in cur.fetchall())
        assert "Seq Scan" not in plan, plan
        assert "patient_index_keys_pkey" in plan, plan
    found = index.candidates(keys)
    assert len(found) == 30  # three blocks of ten patients
