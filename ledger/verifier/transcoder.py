"""The msgpack transcoder of event bodies: a published, byte-exact contract.

Every domain event's attributes pass through here on their way into a signed envelope, so the
encoding is fixed and documented rather than left to a library default. Plain msgpack carries
str (as str), bytes (as bin), int (-2**63 to 2**64-1), float (64-bit), bool, None, lists and
maps. Four application ext types carry the rest:

======  ======================  ===============================================================
code    Python type             payload
======  ======================  ===============================================================
1       ``uuid.UUID``           the 16 raw bytes (``UUID.bytes``), so always fixext16 ``d8 01``
2       ``datetime.datetime``   UTF-8 of ``isoformat()``; must be timezone-aware, so the UTC
                                offset survives (the zone itself comes back as a fixed offset)
3       ``datetime.date``       UTF-8 of ``isoformat()`` (``YYYY-MM-DD``)
4       ``decimal.Decimal``     UTF-8 of ``str(d)`` (sign, digits and exponent are kept)
======  ======================  ===============================================================

Decoding is strict: an ext payload must be exactly what encoding that value would produce, so
every value has one encoding. Tuples are written as msgpack arrays and so come back as lists;
map keys may be any hashable value that decodes as one (a tuple key would come back as an
unhashable list, so do not use one). Other types are refused with `TypeError`; unreadable bytes
or an unknown ext code give `ValueError`. Messages name types, never values: values may be
patient data.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from uuid import UUID

import msgpack
from eventsourcing.persistence import Transcoder

EXT_UUID: Final = 1
EXT_DATETIME: Final = 2
EXT_DATE: Final = 3
EXT_DECIMAL: Final = 4

_ExtType = msgpack.ExtType


class _ExtPayloadError(ValueError):
    """An ext payload that is not a valid encoding; its message is already the one to show."""


def _default(obj: Any) -> msgpack.ExtType:
    """Turn a value msgpack cannot write by itself into one of our ext types (or refuse it)."""
    cls = type(obj)
    # Exact-type checks first: they are the common case and cheaper than isinstance.
    if cls is UUID:
        return _ExtType(EXT_UUID, obj.bytes)
    if cls is datetime:
        return _datetime_ext(obj)
    if cls is Decimal:
        return _ExtType(EXT_DECIMAL, str(obj).encode("ascii"))
    if cls is date:
        return _ExtType(EXT_DATE, obj.isoformat().encode("ascii"))
    # Subclasses; datetime before date because a datetime is a date.
    if isinstance(obj, UUID):
        return _ExtType(EXT_UUID, obj.bytes)
    if isinstance(obj, datetime):
        return _datetime_ext(obj)
    if isinstance(obj, date):
        return _ExtType(EXT_DATE, date.isoformat(obj).encode("ascii"))
    if isinstance(obj, Decimal):
        return _ExtType(EXT_DECIMAL, Decimal.__str__(obj).encode("ascii"))
    if isinstance(obj, int):
        # msgpack hands over ints it cannot write before giving up on them.
        raise ValueError("An integer is outside the 64-bit range that msgpack can store.")
    raise TypeError(f"Cannot store a value of type {cls.__module__}.{cls.__qualname__}.")


def _datetime_ext(obj: datetime) -> msgpack.ExtType:
    if obj.tzinfo is None or obj.utcoffset() is None:
        raise TypeError("naive datetimes are not stored; give it a timezone")
    return _ExtType(EXT_DATETIME, datetime.isoformat(obj).encode("ascii"))


def _ext_hook(code: int, data: bytes) -> Any:
    """Read one of our ext types back; anything but the exact encoding of a value is refused."""
    if code == EXT_UUID:
        if len(data) != 16:
            raise _ExtPayloadError("A stored UUID is not exactly 16 bytes.")
        return UUID(bytes=data)
    if code == EXT_DATETIME:
        try:
            text = data.decode("ascii")
            value: Any = datetime.fromisoformat(text)
        except ValueError:
            raise _ExtPayloadError("A stored datetime is not an ISO 8601 timestamp.") from None
        if value.tzinfo is None or value.isoformat() != text:
            raise _ExtPayloadError("A stored datetime is not a canonical timestamp with offset.")
        return value
    if code == EXT_DATE:
        try:
            text = data.decode("ascii")
            value = date.fromisoformat(text)
        except ValueError:
            raise _ExtPayloadError("A stored date is not an ISO 8601 date.") from None
        if value.isoformat() != text:
            raise _ExtPayloadError("A stored date is not in the canonical YYYY-MM-DD form.")
        return value
    if code == EXT_DECIMAL:
        try:
            text = data.decode("ascii")
            value = Decimal(text)
        except (ValueError, InvalidOperation):
            raise _ExtPayloadError("A stored decimal is not a decimal number.") from None
        if str(value) != text:
            raise _ExtPayloadError("A stored decimal is not in its canonical form.")
        return value
    raise _ExtPayloadError(
        f"The data holds msgpack ext type {code}, which this ledger does not use."
    )


_local = threading.local()


def _new_packer() -> msgpack.Packer:
    # One Packer per thread: a Packer keeps a buffer, so sharing one across threads is unsafe,
    # and building one per call costs more than this lookup.
    packer = msgpack.Packer(default=_default, use_bin_type=True, autoreset=True)
    _local.packer = packer
    return packer


def packb(obj: Any) -> bytes:
    """Encode `obj` with the ledger's ext types; `TypeError` for a type it cannot store."""
    try:
        packer: msgpack.Packer = _local.packer
    except AttributeError:
        packer = _new_packer()
    try:
        data: bytes = packer.pack(obj)
    except UnicodeEncodeError:
        raise ValueError("A string is not valid Unicode (it holds a lone surrogate).") from None
    return data


# msgpack decodes its own ext type -1 (Timestamp) without calling ext_hook, so it has to be
# refused after the fact. These are the only headers under which a -1 payload can stand; when
# none occurs in the bytes (almost always) there is nothing to look for.
_TIMESTAMP_HEADERS: Final = (
    b"\xd6\xff",
    b"\xd7\xff",
    b"\xc7\x0c\xff",
    b"\xc8\x00\x0c\xff",
    b"\xc9\x00\x00\x00\x0c\xff",
)


def unpackb(data: bytes) -> Any:
    """Decode bytes written by `packb`; `ValueError` for anything else."""
    try:
        obj = msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    except _ExtPayloadError as error:
        raise ValueError(str(error)) from None
    except (ValueError, TypeError):
        raise ValueError("The data is not a well-formed msgpack value.") from None
    if (
        b"\xff" in data  # one memchr rules out nearly every body
        and any(header in data for header in _TIMESTAMP_HEADERS)
        and _holds_timestamp(obj)
    ):
        raise ValueError("The data holds msgpack ext type -1, which this ledger does not use.")
    return obj


def _holds_timestamp(obj: Any) -> bool:
    """Whether a decoded value holds a msgpack Timestamp anywhere (iterative: no depth limit)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, msgpack.Timestamp):
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class MsgpackTranscoder(Transcoder):
    """The eventsourcing transcoder of every Chartledger event body (see the module docstring)."""

    def encode(self, obj: Any) -> bytes:
        """Encode an event's attributes; `TypeError` names a type that cannot be stored."""
        return packb(obj)

    def decode(self, data: bytes) -> Any:
        """Decode an event body; `ValueError` when the bytes are not a body this encodes."""
        return unpackb(data)
