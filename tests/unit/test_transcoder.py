"""The msgpack transcoder: its published bytes, round trips under Hypothesis, and its refusals."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, Transcoder
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.verifier.transcoder import MsgpackTranscoder, packb, unpackb

# -- known answers, written out by hand from the contract in the module docstring -------------

FIXED_UUID = UUID("12345678-1234-5678-1234-567812345678")
FIXED_AT = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))

KNOWN_DICT = {
    "id": FIXED_UUID,
    "at": FIXED_AT,
    "day": date(2024, 1, 2),
    "amount": Decimal("12.50"),
}
KNOWN_HEX = "".join(
    (
        "84",  # fixmap, 4 entries
        "a26964",  # "id"
        "d801",  # fixext16, code 1
        "12345678123456781234567812345678",  # the UUID's 16 bytes
        "a26174",  # "at"
        "c71902",  # ext8, 25 bytes, code 2
        "323032342d30312d30325430333a30343a30352b30313a3030",  # "2024-01-02T03:04:05+01:00"
        "a3646179",  # "day"
        "c70a03",  # ext8, 10 bytes, code 3
        "323032342d30312d3032",  # "2024-01-02"
        "a6616d6f756e74",  # "amount"
        "c70504",  # ext8, 5 bytes, code 4
        "31322e3530",  # "12.50"
    )
)


def test_known_answer_dict() -> None:
    assert packb(KNOWN_DICT).hex() == KNOWN_HEX
    assert MsgpackTranscoder().encode(KNOWN_DICT).hex() == KNOWN_HEX
    assert unpackb(bytes.fromhex(KNOWN_HEX)) == KNOWN_DICT


@pytest.mark.parametrize(
    ("value", "hex_bytes"),
    [
        (UUID(int=0), "d801" + "00" * 16),
        (datetime(2000, 1, 1, tzinfo=UTC), "c71902" + b"2000-01-01T00:00:00+00:00".hex()),
        (
            datetime(2000, 1, 1, 0, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
            "c72002" + b"2000-01-01T00:00:00.000005-05:30".hex(),
        ),
        (date(1999, 12, 31), "c70a03" + b"1999-12-31".hex()),
        (Decimal("1.50"), "d604" + b"1.50".hex()),  # 4 bytes: fixext4
        (Decimal("-0"), "d504" + b"-0".hex()),  # 2 bytes: fixext2
        (Decimal("7"), "d404" + b"7".hex()),  # 1 byte: fixext1
        (Decimal("1E+3"), "d604" + b"1E+3".hex()),
        ((1, "a"), "9201a161"),  # a tuple is an array
        (b"\x00", "c40100"),  # bytes are bin, not str
    ],
)
def test_known_answer_values(value: Any, hex_bytes: str) -> None:
    assert packb(value).hex() == hex_bytes


def test_tuples_come_back_as_lists() -> None:
    assert unpackb(packb((1, (2, 3)))) == [1, [2, 3]]


def test_non_string_keys_are_allowed() -> None:
    value = {1: "a", FIXED_UUID: "b", b"k": "c"}
    assert unpackb(packb(value)) == value


# -- round trips ------------------------------------------------------------------------------

fixed_offsets = st.integers(min_value=-1439, max_value=1439).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# zoneinfo's IANA data is present here, so real zones (with their odd historic offsets) are used.
aware_datetimes = st.datetimes(timezones=st.timezones() | fixed_offsets)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.uuids()
    | aware_datetimes
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=25,
)


def same(expected: Any, actual: Any) -> bool:
    """Equal, of the same type, and as precise as it was written.

    Stricter than `==`, and needed for zoned datetimes: Python calls two datetimes in different
    zones unequal when either falls in an ambiguous hour, though they name the same instant.
    """
    if isinstance(expected, tuple):
        expected = list(expected)
    if type(expected) is not type(actual):
        return False
    if isinstance(expected, dict):
        return bool(expected.keys() == actual.keys()) and all(
            same(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    if isinstance(expected, datetime):
        # Same wall-clock time and same offset: the same instant, written the same way.
        # (astimezone would overflow near datetime.min and datetime.max.)
        return bool(
            expected.isoformat() == actual.isoformat()
            and expected.replace(tzinfo=None) == actual.replace(tzinfo=None)
            and expected.utcoffset() == actual.utcoffset()
        )
    if isinstance(expected, float):
        return bool(expected.hex() == actual.hex())  # keeps -0.0 apart from 0.0
    if isinstance(expected, Decimal):
        return str(expected) == str(actual) and expected == actual  # exponent kept
    return bool(expected == actual)


@settings(max_examples=300)
@given(values)
def test_round_trip(value: Any) -> None:
    transcoder = MsgpackTranscoder()
    decoded = transcoder.decode(transcoder.encode(value))
    assert same(value, decoded)


@given(aware_datetimes)
def test_datetimes_keep_their_offset(value: datetime) -> None:
    decoded = unpackb(packb(value))
    assert decoded.utcoffset() == value.utcoffset()
    assert decoded.replace(tzinfo=None) == value.replace(tzinfo=None)  # same wall-clock time
    assert decoded.isoformat() == value.isoformat()


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_compare_equal(value: Decimal) -> None:
    assert unpackb(packb(value)) == value


def test_concurrent_threads_do_not_mix_buffers() -> None:
    payloads = [{"n": n, "id": uuid4(), "blob": bytes([n]) * 5000} for n in range(8)]
    expected = [packb(p) for p in payloads]
    failures: list[int] = []

    def work(n: int) -> None:
        for _ in range(300):
            if packb(payloads[n]) != expected[n]:
                failures.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# -- refusals ---------------------------------------------------------------------------------


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(TypeError, match="naive datetimes are not stored; give it a timezone"):
        packb({"at": datetime(2024, 1, 2, 3, 4, 5)})


@pytest.mark.parametrize(
    ("value", "type_name"),
    [({1, 2}, "builtins.set"), (object(), "builtins.object"), (frozenset(), "frozenset")],
)
def test_unsupported_type_is_refused(value: Any, type_name: str) -> None:
    with pytest.raises(TypeError, match=type_name):
        MsgpackTranscoder().encode({"x": [value]})


def test_integer_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="64-bit"):
        packb(2**64)
    with pytest.raises(ValueError, match="64-bit"):
        packb(-(2**63) - 1)


def test_encoder_recovers_after_a_refusal() -> None:
    with pytest.raises(TypeError):
        packb(["a" * 100, object()])
    assert packb([1]) == b"\x91\x01"


@pytest.mark.parametrize(
    ("hex_bytes", "message"),
    [
        ("d40900", "ext type 9"),  # unknown ext code
        ("d4ff00", "not a well-formed"),  # msgpack's own timestamp code, malformed
        ("d6ff00000001", "ext type -1"),  # a msgpack timestamp: not one of ours
        ("81a161d6ff00000001", "ext type -1"),  # ...also when nested
        ("c70f01" + "00" * 15, "UUID"),  # UUID of 15 bytes
        ("c71302" + b"2024-01-02T03:04:05".hex(), "datetime"),  # no offset
        ("c71402" + b"2024-01-02T03:04:05Z".hex(), "datetime"),  # not isoformat()'s spelling
        ("c70302" + b"now".hex(), "datetime"),
        ("c70803" + b"20240102".hex(), "date"),  # ISO basic form: not canonical
        ("c70a03" + b"2024-13-01".hex(), "date"),
        ("d404" + b"x".hex(), "decimal"),
        ("c70504" + b"1_000".hex(), "decimal"),  # Decimal() accepts it, but it is not str(d)
        ("d604" + b" 1.5".hex(), "decimal"),
        ("c1", "not a well-formed"),  # the one byte msgpack never uses
        ("92a161", "not a well-formed"),  # truncated array
        ("0102", "not a well-formed"),  # trailing bytes
        ("a2ff61", "not a well-formed"),  # str that is not UTF-8
        ("81910101", "not a well-formed"),  # a list as a map key
        ("", "not a well-formed"),
    ],
)
def test_malformed_bytes_are_refused(hex_bytes: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MsgpackTranscoder().decode(bytes.fromhex(hex_bytes))


def test_truncated_known_answer_is_refused() -> None:
    data = bytes.fromhex(KNOWN_HEX)
    for cut in range(len(data)):
        with pytest.raises(ValueError):
            unpackb(data[:cut])


def test_refusals_do_not_chain_library_errors() -> None:
    with pytest.raises(ValueError) as caught:
        unpackb(b"\x92")
    assert caught.value.__suppress_context__


# -- as the eventsourcing transcoder ----------------------------------------------------------


class Chart(Aggregate):
    """A tiny aggregate whose created event carries each of the ext types."""

    def __init__(self, patient: UUID, seen_at: datetime, born: date, balance: Decimal) -> None:
        self.patient = patient
        self.seen_at = seen_at
        self.born = born
        self.balance = balance


def test_works_as_the_eventsourcing_transcoder() -> None:
    transcoder: Transcoder = MsgpackTranscoder()
    mapper: Mapper[UUID] = Mapper(transcoder=transcoder)
    chart = Chart(
        patient=uuid4(),
        seen_at=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2))),
        born=date(1980, 2, 29),
        balance=Decimal("-12.340"),
    )
    (created,) = chart.collect_events()

    stored = mapper.to_stored_event(created)
    restored = mapper.to_domain_event(stored)

    assert type(restored) is type(created)
    assert restored == created
    assert restored.timestamp.utcoffset() == created.timestamp.utcoffset()
    copy = restored.mutate(None)
    assert isinstance(copy, Chart)
    assert copy.id == chart.id
    assert copy.patient == chart.patient
    assert copy.seen_at.isoformat() == "2024-05-06T07:08:09.123456+02:00"
    assert copy.born == date(1980, 2, 29)
    assert str(copy.balance) == "-12.340"


@pytest.mark.parametrize(
    "value",
    [
        datetime.min.replace(tzinfo=timezone(timedelta(hours=23, minutes=59))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-23, minutes=-59))),
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Amsterdam")),  # ambiguous
        datetime(1900, 1, 1, tzinfo=ZoneInfo("Europe/Amsterdam")),  # +00:19:32 local mean time
        datetime(2000, 1, 1, tzinfo=timezone(timedelta(seconds=1, microseconds=1))),
    ],
)
def test_datetime_edges(value: datetime) -> None:
    decoded = unpackb(packb(value))
    assert same(value, decoded)
