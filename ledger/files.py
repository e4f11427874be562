"""Files the ledger writes: never over an existing file without `force`, never through a link.

Every output (reports, releases, legal packages, exports, document copies) is created here:
`O_EXCL` so an existing file is refused (with `force`, a regular file is replaced; a symlink or a
device such as /dev/null never is), `O_NOFOLLOW` so a planted link is not followed, mode 0600
for files and 0700 for folders, because they hold patient data.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TextIO

from ledger.errors import UsageError

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _refuse_special(path: Path, st: os.stat_result) -> None:
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(f"{path} is a symbolic link; give the path of a new file.")
    if not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a device or special file; give the path of a new file.")


def create_file(path: Path, *, force: bool = False) -> int:
    """A new file opened for writing (0600); returns its descriptor. Refuses an existing file
    unless `force` (and then only a regular file), a symlink, a folder or a device."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise UsageError(f"{path} cannot be written ({error.strerror}).") from None
    else:
        _refuse_special(path, st)
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{path} is a folder; give the path of a new file.")
        if not force:
            raise UsageError(f"{path} already exists; give a new file name or --force.")
        try:
            path.unlink()
        except OSError as error:
            raise UsageError(f"{path} cannot be replaced ({error.strerror}).") from None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        raise UsageError(f"{path} already exists; give a new file name or --force.") from None
    except FileNotFoundError:
        raise UsageError(f"The folder of {path} does not exist.") from None
    except OSError as error:
        raise UsageError(f"{path} cannot be written ({error.strerror}).") from None
    os.fchmod(fd, FILE_MODE)  # whatever the umask
    return fd


def check_new_file(path: Path, *, force: bool = False) -> None:
    """Refuse now (before any work is done) what `create_file` would refuse later."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise UsageError(f"The folder of {path} does not exist.") from None
        return
    except OSError as error:
        raise UsageError(f"{path} cannot be written ({error.strerror}).") from None
    _refuse_special(path, st)
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a folder; give the path of a new file.")
    if not force:
        raise UsageError(f"{path} already exists; give a new file name or --force.")


def open_text(path: Path, *, force: bool = False) -> TextIO:
    """A new text file (UTF-8, 0600) to write line by line; see `create_file`."""
    return os.fdopen(create_file(path, force=force), "w", encoding="utf-8", newline="")


def write_bytes(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write `data` to a new file (see `create_file`); a failed write leaves no partial file."""
    fd = create_file(path, force=force)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as error:
        Path(path).unlink(missing_ok=True)
        raise UsageError(f"{path} could not be written ({error.strerror}).") from None


def write_text(path: Path, text: str, *, force: bool = False) -> None:
    write_bytes(path, text.encode("utf-8"), force=force)


def check_new_folder(path: Path, *, force: bool = False) -> None:
    """Refuse now what `new_folder` would refuse later (a file, a link, a non-empty folder)."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    _refuse_special(path, st)
    if not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a file, not a folder; give a new folder.")
    if any(path.iterdir()) and not force:
        raise UsageError(f"The folder {path} is not empty; give a new folder or --force.")


def new_folder(path: Path, *, force: bool = False) -> Path:
    """A folder for a package or export: created 0700, or an existing empty one; a non-empty
    folder only with `force` (its files are then replaced one by one, never through links)."""
    path = Path(path)
    check_new_folder(path, force=force)
    if os.path.lexists(path):
        return path  # an empty folder, or (with force) a non-empty one
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=FOLDER_MODE)
        path.mkdir(mode=FOLDER_MODE)
    except OSError as error:
        raise UsageError(f"The folder {path} cannot be made ({error.strerror}).") from None
    os.chmod(path, FOLDER_MODE)
    return path


def subfolder(path: Path) -> Path:
    """A folder inside a package (0700); an existing one is kept if it is a real folder."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        path.mkdir(mode=FOLDER_MODE)
        os.chmod(path, FOLDER_MODE)
        return path
    _refuse_special(path, st)
    if not stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a file, not a folder.")
    return path
