"""ledger/files: outputs never overwrite, never follow a link, are their owner's only."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.errors import UsageError
from ledger.files import check_new_file, check_new_folder, new_folder, open_text, write_bytes


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """A permissive umask, so the modes below are the helper's doing, not the process's."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_new_file_is_0600_and_an_existing_one_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_bytes(out, b"one")
    assert out.read_bytes() == b"one" and _mode(out) == 0o600
    with pytest.raises(UsageError, match="already exists; give a new file name or --force"):
        write_bytes(out, b"two")
    with pytest.raises(UsageError, match="already exists"):
        check_new_file(out)
    assert out.read_bytes() == b"one"
    out.chmod(0o644)
    write_bytes(out, b"two", force=True)
    assert out.read_bytes() == b"two" and _mode(out) == 0o600


def test_a_symlink_is_never_followed_even_with_force(tmp_path: Path) -> None:
    victim = tmp_path / "passwd"
    victim.write_text("root:x:0:0\n")
    link = tmp_path / "link.html"
    link.symlink_to(victim)
    for force in (False, True):
        with pytest.raises(UsageError, match="symbolic link"):
            write_bytes(link, b"owned", force=force)
        with pytest.raises(UsageError, match="symbolic link"):
            check_new_file(link, force=force)
    assert victim.read_text() == "root:x:0:0\n"


def test_devices_and_folders_are_refused(tmp_path: Path) -> None:
    for force in (False, True):
        with pytest.raises(UsageError, match="device or special file"):
            write_bytes(Path("/dev/null"), b"x", force=force)
        with pytest.raises(UsageError, match="is a folder"):
            write_bytes(tmp_path, b"x", force=force)
    with pytest.raises(UsageError, match=r"folder of .* does not exist"):
        write_bytes(tmp_path / "nowhere" / "x.html", b"x")


def test_text_files_are_written_line_by_line_0600(tmp_path: Path) -> None:
    with open_text(tmp_path / "events.ndjson") as out:
        out.write("a\nb\n")
    assert (tmp_path / "events.ndjson").read_text() == "a\nb\n"
    assert _mode(tmp_path / "events.ndjson") == 0o600


def test_folders_are_0700_and_a_non_empty_one_needs_force(tmp_path: Path) -> None:
    package = new_folder(tmp_path / "deep" / "package")
    assert _mode(package) == 0o700 and _mode(tmp_path / "deep") == 0o700
    new_folder(package)  # empty: fine
    (package / "old.txt").write_text("x")
    with pytest.raises(UsageError, match="not empty; give a new folder or --force"):
        new_folder(package)
    with pytest.raises(UsageError, match="not empty"):
        check_new_folder(package)
    assert new_folder(package, force=True) == package
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        new_folder(tmp_path / "file", force=True)
    (tmp_path / "linked").symlink_to(package)
    with pytest.raises(UsageError, match="symbolic link"):
        new_folder(tmp_path / "linked", force=True)
