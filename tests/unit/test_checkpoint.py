"""C2SP signed-note checkpoints: exact bytes, published vectors, and every way a note can be bad."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import IntegrityViolation, UsageError
from ledger.verifier.checkpoint import (
    Checkpoint,
    NoteVerifier,
    add_signature,
    key_id,
    open_checkpoint,
    open_note,
    parse_checkpoint_unverified,
    sign_checkpoint,
    sign_note,
)

DASH = "\u2014"  # EM DASH, which opens every signature line
NAME = "chartledger.example/log"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VERIFIER = NoteVerifier(NAME, KEY.public_key())
ROOT = hashlib.sha256(b"root").digest()
CHECKPOINT = Checkpoint(origin=NAME, size=42, root=ROOT)

WITNESS_NAME = "witness.example/w1"
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes([7]) * 32)
WITNESS = NoteVerifier(WITNESS_NAME, WITNESS_KEY.public_key())

OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes([9]) * 32)


def raw(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def fails(check: str, note: str, verifiers: list[NoteVerifier] | None = None) -> str:
    """Open `note`, expect the named check to fail, and return the one-sentence detail."""
    with pytest.raises(IntegrityViolation) as caught:
        open_checkpoint(note, [VERIFIER] if verifiers is None else verifiers)
    assert caught.value.check == check
    assert "\n" not in str(caught.value)
    return caught.value.detail


def signed(text: str) -> str:
    """A correctly signed note of arbitrary text: for bodies a Checkpoint could never produce."""
    return sign_note(text, name=NAME, private_key=KEY)


# -- layout -----------------------------------------------------------------------------------


def test_body_layout() -> None:
    assert Checkpoint("example.com/log", 0, bytes(32)).body() == (
        "example.com/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    )
    with_extensions = Checkpoint("o", 7, bytes(32), ("ext one", "ext two"))
    assert with_extensions.body().endswith("=\next one\next two\n")


def test_key_id_is_the_signed_note_recommendation() -> None:
    expected = hashlib.sha256(NAME.encode() + b"\x0a" + b"\x01" + raw(KEY)).digest()[:4]
    assert key_id(NAME, KEY.public_key()) == expected
    assert VERIFIER.key_id == expected


def test_exact_note_text() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)

    # Built again here from the primitives, independently of the module.
    body = f"{NAME}\n42\n{base64.b64encode(ROOT).decode()}\n"
    kid = hashlib.sha256(NAME.encode() + b"\n\x01" + raw(KEY)).digest()[:4]
    signature = KEY.sign(body.encode("utf-8"))
    expected = f"{body}\n{DASH} {NAME} {base64.b64encode(kid + signature).decode()}\n"
    assert note == expected

    # And pinned, so that a change to any byte is seen (Ed25519 signatures are deterministic).
    assert note == (
        "chartledger.example/log\n"
        "42\n"
        "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n"
        "\n"
        "\u2014 chartledger.example/log "
        "S7HCH/XGjZPfdMZYRuVzSgWItGno+jKhNBXdL1ZCZxj+ZJHz4aRo929yf2ff1Jh8IghF3RAN9hz8yeQ+8MsoWZv7jwI=\n"
    )


def test_round_trip() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    assert open_checkpoint(note, [VERIFIER]) == CHECKPOINT


def test_extension_lines_are_kept() -> None:
    checkpoint = Checkpoint(NAME, 3, ROOT, ("an extension", "\u2014 looks like a signature"))
    note = sign_checkpoint(checkpoint, name=NAME, private_key=KEY)
    assert open_checkpoint(note, [VERIFIER]) == checkpoint


def test_parse_unverified_lists_every_signature() -> None:
    note = add_signature(
        sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY),
        name=WITNESS_NAME,
        private_key=WITNESS_KEY,
    )
    checkpoint, signatures = parse_checkpoint_unverified(note)
    assert checkpoint == CHECKPOINT
    assert [(name, kid) for name, kid, _ in signatures] == [
        (NAME, VERIFIER.key_id),
        (WITNESS_NAME, WITNESS.key_id),
    ]
    assert signatures[0][2] == KEY.sign(CHECKPOINT.body().encode())


# -- published vectors ------------------------------------------------------------------------

# The Go checksum database's key, from golang/go src/cmd/go/internal/modfetch/key.go, and a
# checkpoint it published ("Retrieved from https://sum.golang.org/latest, 2024-09-23"), as
# quoted in sigsum-go pkg/checkpoint/checkpoint_test.go (TestGoSumDBCheckpoint). The origin
# differs from the key name, and has spaces: both allowed.
GO_SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
GO_SUMDB_CHECKPOINT = (
    "go.sum database tree\n"
    "30055305\n"
    "mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM=\n"
    "\n"
    "\u2014 sum.golang.org "
    "Az3grpgEild5qw7+5dtV13Kf1C2Xurm8q4fhdxvcsDHnqNTaxL2AFjBY+2TyGKevucFcAAlWFJJYle3EJlDCrQ+y3A8=\n"
)


def test_go_checksum_database_checkpoint() -> None:
    verifier = NoteVerifier.from_vkey(GO_SUMDB_VKEY)
    assert verifier.vkey == GO_SUMDB_VKEY
    checkpoint = open_checkpoint(GO_SUMDB_CHECKPOINT, [verifier])
    assert checkpoint == Checkpoint(
        "go.sum database tree",
        30055305,
        base64.b64decode("mXfgRcJ0bG0j3CPdKwgGWtUzBUbX67saZGRmFuJGGsM="),
    )
    tampered = GO_SUMDB_CHECKPOINT.replace("30055305", "30055306")
    assert fails("checkpoint signature", tampered, [verifier]).endswith("does not verify")


# sigsum-go pkg/checkpoint/checkpoint_test.go: validCheckpointASCII, signed by the Ed25519 key
# whose seed is crypto.PrivateKey{17} (17 followed by 31 zero bytes).
SIGSUM_SEED = bytes([17]) + bytes(31)
SIGSUM_ORIGIN = (
    "sigsum.org/v1/tree/e796172b92befd62d9dc67e41c2f5bc9d3100a3023b20b1ca40288dd1c679e69"
)
SIGSUM_CHECKPOINT = (
    f"{SIGSUM_ORIGIN}\n"
    "10\n"
    "HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    "\n"
    f"\u2014 {SIGSUM_ORIGIN} "
    "gJ2ho0n8F8olcerUF1FFdv235A/5as/coWrpLrtE7ovMeP5whgwouYExowG/lTznxu6OUGjjt5yJQ6bXtTcf718MqAQ=\n"
)


def test_sigsum_checkpoint_is_reproduced_byte_for_byte() -> None:
    private_key = Ed25519PrivateKey.from_private_bytes(SIGSUM_SEED)
    checkpoint = Checkpoint(SIGSUM_ORIGIN, 10, bytes([28, 14, 71]) + bytes(29))
    note = sign_checkpoint(checkpoint, name=SIGSUM_ORIGIN, private_key=private_key)
    assert note == SIGSUM_CHECKPOINT
    verifier = NoteVerifier(SIGSUM_ORIGIN, private_key.public_key())
    assert open_checkpoint(SIGSUM_CHECKPOINT, [verifier]) == checkpoint


# golang.org/x/mod sumdb/note/note_test.go (TestSign, TestOpen): a plain signed note, with the
# published signer key (0x01 then the Ed25519 seed) and two verifier keys.
PETER_SKEY = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def test_go_note_package_vectors() -> None:
    seed = base64.b64decode(PETER_SKEY)
    assert seed[0] == 1
    peter_key = Ed25519PrivateKey.from_private_bytes(seed[1:])
    assert sign_note(PETER_TEXT, name="PeterNeumann", private_key=peter_key) == (
        PETER_TEXT + "\n" + PETER_SIG
    )

    peter = NoteVerifier.from_vkey(PETER_VKEY)
    enoch = NoteVerifier.from_vkey(ENOCH_VKEY)
    assert peter.public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == raw(peter_key)
    note = PETER_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter]) == PETER_TEXT  # Enoch's line: an unknown key, ignored
    assert open_note(note, [enoch]) == PETER_TEXT
    assert open_note(note, [peter, enoch]) == PETER_TEXT
    with pytest.raises(IntegrityViolation) as caught:
        open_note(note, [])
    assert caught.value.check == "checkpoint signature"
    # A fine note, but not a checkpoint: two lines of prose.
    assert "origin, tree size and root hash" in fails("checkpoint format", note, [peter])


@pytest.mark.parametrize(
    "vkey",
    [
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),  # id does not match
        PETER_VKEY.replace("PeterNeumann", "Peter Neumann"),
        PETER_VKEY.replace("+ARpc", "+AhRpc"),
        PETER_VKEY.replace("+ARpc", "+ZRpc"),  # not signature type 0x01
        PETER_VKEY[:-1],
        "PeterNeumann",
        "",
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(UsageError):
        NoteVerifier.from_vkey(vkey)


# -- other keys and cosignatures --------------------------------------------------------------


def test_unknown_key_lines_are_ignored() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    body, _, own = note.partition("\n\n")
    stranger = sign_note(CHECKPOINT.body(), name="stranger.example", private_key=OTHER_KEY)
    stranger_line = stranger.partition("\n\n")[2]
    # An unknown line with a signature type we do not speak (more than 64 bytes).
    exotic = f"{DASH} pq.example/w {base64.b64encode(bytes(4 + 2420)).decode()}\n"
    assert open_checkpoint(f"{body}\n\n{stranger_line}{own}{exotic}", [VERIFIER]) == CHECKPOINT


def test_same_name_other_key_is_ignored() -> None:
    """Spec: ignore signatures that share a name or a key id with a known key, but not both."""
    ours = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    impostor = sign_checkpoint(CHECKPOINT, name=NAME, private_key=OTHER_KEY)
    impostor_line = impostor.partition("\n\n")[2]
    assert open_checkpoint(ours + impostor_line, [VERIFIER]) == CHECKPOINT
    assert "none of the note's 1 signature" in fails("checkpoint signature", impostor)

    # Our key id under another name: also someone else's key.
    renamed = ours.replace(f"{DASH} {NAME} ", f"{DASH} other.example/log ")
    assert open_checkpoint(renamed + ours.partition("\n\n")[2], [VERIFIER]) == CHECKPOINT
    fails("checkpoint signature", renamed)


def test_cosignature_verifies() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    cosigned = add_signature(note, name=WITNESS_NAME, private_key=WITNESS_KEY)
    assert cosigned.startswith(note)
    assert cosigned.count(f"\n{DASH} ") == 2
    assert open_checkpoint(cosigned, [VERIFIER]) == CHECKPOINT
    assert open_checkpoint(cosigned, [WITNESS]) == CHECKPOINT
    assert open_checkpoint(cosigned, [VERIFIER, WITNESS]) == CHECKPOINT


def test_rotation_second_key_signs_too() -> None:
    new_key = Ed25519PrivateKey.from_private_bytes(bytes([3]) * 32)
    note = add_signature(
        sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY), name=NAME, private_key=new_key
    )
    assert open_checkpoint(note, [NoteVerifier(NAME, new_key.public_key())]) == CHECKPOINT
    assert open_checkpoint(note, [VERIFIER]) == CHECKPOINT


def test_add_signature_replaces_a_line_by_the_same_key() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    cosigned = add_signature(note, name=WITNESS_NAME, private_key=WITNESS_KEY)
    again = add_signature(cosigned, name=WITNESS_NAME, private_key=WITNESS_KEY)
    assert again == cosigned
    assert add_signature(cosigned, name=NAME, private_key=KEY).count(f"{DASH} {NAME} ") == 1


def test_a_known_key_that_fails_is_not_ignored() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    witness_line = sign_note("something else\n", name=WITNESS_NAME, private_key=WITNESS_KEY)
    bad = note + witness_line.partition("\n\n")[2]
    assert open_checkpoint(bad, [VERIFIER]) == CHECKPOINT  # witness unknown: ignored
    detail = fails("checkpoint signature", bad, [VERIFIER, WITNESS])
    assert detail == f"the signature by key {WITNESS_NAME}+{WITNESS.key_id.hex()} does not verify"


def test_conflicting_verifiers_are_a_usage_error() -> None:
    note = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
    assert open_checkpoint(note, [VERIFIER, VERIFIER]) == CHECKPOINT  # the same key twice is fine

    class Colliding(NoteVerifier):
        @property
        def key_id(self) -> bytes:
            return VERIFIER.key_id

    with pytest.raises(UsageError):
        open_checkpoint(note, [VERIFIER, Colliding(NAME, OTHER_KEY.public_key())])


# -- refusals ---------------------------------------------------------------------------------

NOTE = sign_checkpoint(CHECKPOINT, name=NAME, private_key=KEY)
BODY, _, SIGNATURES = NOTE.partition("\n\n")
ROOT_B64 = base64.b64encode(ROOT).decode()


def test_wrong_key() -> None:
    verifier = NoteVerifier(NAME, OTHER_KEY.public_key())
    fails("checkpoint signature", NOTE, [verifier])


def test_no_verifiers() -> None:
    fails("checkpoint signature", NOTE, [])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("\n42\n", "\n43\n"),  # size
        (ROOT_B64, base64.b64encode(hashlib.sha256(b"other").digest()).decode()),  # root
        (f"{NAME}\n", "chartledger.example/lug\n"),  # origin
    ],
)
def test_tampered_body(old: str, new: str) -> None:
    tampered = NOTE.replace(old, new, 1)
    assert tampered != NOTE
    fails("checkpoint signature", tampered)


def test_only_unknown_signatures() -> None:
    note = sign_checkpoint(CHECKPOINT, name=WITNESS_NAME, private_key=WITNESS_KEY)
    assert "none of the note's 1 signature" in fails("checkpoint signature", note)


def test_signature_of_wrong_length() -> None:
    kid = VERIFIER.key_id
    good = KEY.sign(CHECKPOINT.body().encode())
    for signature in (good[:63], good + b"\x00", good[:32]):
        line = f"{DASH} {NAME} {base64.b64encode(kid + signature).decode()}\n"
        detail = fails("checkpoint signature", f"{BODY}\n\n{line}")
        assert "is not an Ed25519 signature" in detail


@pytest.mark.parametrize(
    ("note", "why"),
    [
        (BODY + "\n" + SIGNATURES, "no blank line"),  # blank line missing
        (BODY + "\n\n", "no signature lines"),
        (BODY + "\n", "no blank line"),
        (NOTE[:-1], "does not end with a newline"),
        (NOTE.replace("\n", "\r\n"), "carriage return"),
        (NOTE.replace("\n\n", "\n\r\n"), "carriage return"),
        (NOTE.replace(DASH, "-"), "not a signature line"),
        (NOTE.replace(DASH, "\u2013"), "not a signature line"),  # EN DASH
        (NOTE.replace(f"{DASH} ", f"{DASH}  "), "valid key name"),
        (NOTE.replace(f"{DASH} {NAME}", f"{DASH} a+b"), "valid key name"),
        (NOTE + "trailing text\n", "not a signature line"),
        (NOTE + f"{DASH} {NAME}\n", "valid key name"),
        (NOTE + f"{DASH} {NAME} AAAA AAAA\n", "valid key name"),
        (NOTE + f"{DASH} {NAME} !!!!\n", "not canonical base64"),
        (NOTE + f"{DASH} {NAME} AAAAAA\n", "not canonical base64"),  # no padding
        (NOTE + f"{DASH} {NAME} AAAAAB==\n", "not canonical base64"),  # stray bits
        (NOTE + f"{DASH} {NAME} AAAAAA==\n", "too short"),
        (NOTE + (SIGNATURES * 100), "more than 100"),
        (NOTE.replace("42", "4\t2"), "control character"),
        ("\x00" + NOTE, "control character"),
        (NOTE.replace(NAME, "bad\ud800", 1), "UTF-8"),
        ("", "no blank line"),
    ],
)
def test_malformed_note(note: str, why: str) -> None:
    assert why in fails("checkpoint format", note)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (f"{NAME}\n042\n{ROOT_B64}\n", "leading zeros"),
        (f"{NAME}\n00\n{ROOT_B64}\n", "leading zeros"),
        (f"{NAME}\n+42\n{ROOT_B64}\n", "sign"),
        (f"{NAME}\n-1\n{ROOT_B64}\n", "sign"),
        (f"{NAME}\n 42\n{ROOT_B64}\n", "decimal"),
        (f"{NAME}\n4_2\n{ROOT_B64}\n", "decimal"),
        (f"{NAME}\n\u0664\u0662\n{ROOT_B64}\n", "decimal"),  # Arabic-Indic digits: int() takes them
        (f"{NAME}\n0x2a\n{ROOT_B64}\n", "decimal"),
        (f"{NAME}\n{2**64}\n{ROOT_B64}\n", "decimal"),
        (f"{NAME}\n\n{ROOT_B64}\n", "empty line"),
        (f"{NAME}\n42\n{ROOT_B64}\n\nextension\n", "empty line"),
        (f"\n42\n{ROOT_B64}\n", "empty line"),
        (f"{NAME}\n42\n", "origin, tree size and root hash"),
        (f"{NAME}\n42\n{ROOT_B64[:-1]}\n", "base64 of 32 bytes"),
        (f"{NAME}\n42\n{ROOT_B64[:-2]}\n", "base64 of 32 bytes"),
        (f"{NAME}\n42\n{ROOT_B64.replace('+', '-')}\n", "base64 of 32 bytes"),  # URL alphabet
        (f"{NAME}\n42\n{base64.b64encode(ROOT[:31]).decode()}\n", "base64 of 32 bytes"),
        (f"{NAME}\n42\n{base64.b64encode(ROOT + b'x').decode()}\n", "base64 of 32 bytes"),
        (f"{NAME}\n42\n{ROOT_B64[:-2]}J=\n", "base64 of 32 bytes"),  # non-zero pad bits
        (f"{NAME}\n42\n{ROOT_B64} \n", "base64 of 32 bytes"),
    ],
)
def test_malformed_body_even_when_signed(body: str, why: str) -> None:
    assert why in fails("checkpoint format", signed(body))


def test_largest_size_is_accepted() -> None:
    checkpoint = open_checkpoint(signed(f"{NAME}\n{2**64 - 1}\n{ROOT_B64}\n"), [VERIFIER])
    assert checkpoint.size == 2**64 - 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "", "size": 1, "root": ROOT},
        {"origin": "a\nb", "size": 1, "root": ROOT},
        {"origin": "a\rb", "size": 1, "root": ROOT},
        {"origin": "o", "size": -1, "root": ROOT},
        {"origin": "o", "size": 2**64, "root": ROOT},
        {"origin": "o", "size": True, "root": ROOT},
        {"origin": "o", "size": 1, "root": ROOT[:31]},
        {"origin": "o", "size": 1, "root": ROOT.hex()},
        {"origin": "o", "size": 1, "root": ROOT, "extensions": ("",)},
        {"origin": "o", "size": 1, "root": ROOT, "extensions": ("a\nb",)},
        {"origin": "o", "size": 1, "root": ROOT, "extensions": ["list"]},
    ],
)
def test_checkpoint_refuses_what_cannot_be_written(kwargs: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        Checkpoint(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u3000b", "a\nb"])
def test_bad_key_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError):
        NoteVerifier(name, KEY.public_key())
    with pytest.raises(UsageError):
        sign_checkpoint(CHECKPOINT, name=name, private_key=KEY)
    with pytest.raises(UsageError):
        add_signature(NOTE, name=name, private_key=KEY)


def test_add_signature_refuses_a_malformed_note() -> None:
    with pytest.raises(IntegrityViolation) as caught:
        add_signature(BODY + "\n", name=WITNESS_NAME, private_key=WITNESS_KEY)
    assert caught.value.check == "checkpoint format"


# -- property ---------------------------------------------------------------------------------

# Any text line: no code point below U+0020 (which signed notes forbid), no lone surrogates.
origins = st.text(alphabet=st.characters(min_codepoint=0x20, exclude_categories=["Cs"]), min_size=1)


@settings(max_examples=200)
@given(
    origin=origins,
    size=st.integers(min_value=0, max_value=2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(origins, max_size=3).map(tuple),
)
def test_sign_then_open_round_trips(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    note = sign_checkpoint(checkpoint, name=NAME, private_key=KEY)
    assert open_checkpoint(note, [VERIFIER]) == checkpoint
    cosigned = add_signature(note, name=WITNESS_NAME, private_key=WITNESS_KEY)
    assert open_checkpoint(cosigned, [WITNESS]) == checkpoint
    assert parse_checkpoint_unverified(cosigned)[0] == checkpoint
