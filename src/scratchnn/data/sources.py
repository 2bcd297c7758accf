"""Where dataset files are looked for, and the error that lists every place when they are not found.

Search order, without an explicit ``root``:

1. ``$SCRATCHNN_DATA/<name>/`` when the environment variable is set;
2. the user cache, ``$XDG_CACHE_HOME/scratchnn/<name>/`` (default ``~/.cache/scratchnn/<name>/``);
3. system folders, e.g. ``/usr/share/datasets/fashion-mnist`` of the Debian package ``dataset-fashion-mnist``;
4. a download from the dataset's canonical mirror into the user cache (when ``download=True``).

With ``root`` only ``root`` and ``root/<name>`` are searched, and a download goes into ``root``.
A download that fails leaves the disk as it was: the files and folders it created are removed again.
Files in the user cache and in system folders are checked against the official md5s when read;
files in folders the user chose (``root``, ``$SCRATCHNN_DATA``) are only checked for structure, so
custom or subsampled copies load too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .._validate import check_bool, invalid_type

T = TypeVar("T")

ENV_VAR = "SCRATCHNN_DATA"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is in none of the searched folders and could not be downloaded.

    The message lists every folder searched and what was missing there, the exact file names, and how
    to provide them.
    """


@dataclass(frozen=True)
class DatasetSource:
    """Where a dataset lives: its folder name, canonical mirror, system folders and install hints."""

    name: str  # folder name under $SCRATCHNN_DATA and the cache, e.g. "fashion-mnist"
    title: str  # for messages, e.g. "Fashion-MNIST"
    mirror: str  # base URL the files are downloaded from
    needed: str  # the file names, for messages
    system_dirs: tuple[Path, ...] = ()
    apt_package: str | None = None


def user_cache_dir() -> Path:
    """scratchnn's folder in the user cache: ``$XDG_CACHE_HOME/scratchnn`` or ``~/.cache/scratchnn``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "scratchnn"


def candidate_dirs(source: DatasetSource, root: str | os.PathLike[str] | None) -> list[tuple[Path, bool]]:
    """The folders to search, in order, each with whether its files are checked against official md5s."""
    if root is not None:
        root = Path(root).expanduser()
        return [(root, False), (root / source.name, False)]
    dirs: list[tuple[Path, bool]] = []
    env = os.environ.get(ENV_VAR, "")
    if env:
        dirs.append((Path(env).expanduser() / source.name, False))
    dirs.append((user_cache_dir() / source.name, True))
    dirs.extend((d, True) for d in source.system_dirs)
    return dirs


def locate(
    source: DatasetSource,
    root: str | os.PathLike[str] | None,
    *,
    download: bool,
    find: Callable[[Path], tuple[T | None, str]],
    fetch: Callable[[Path], None],
) -> tuple[T, bool]:
    """Search the candidate folders with ``find``; failing that, ``fetch`` into the download folder.

    ``find(folder)`` returns ``(found, "")`` or ``(None, why_not)``; ``fetch(folder)`` downloads what
    is missing there. Returns ``(found, verify)`` where ``verify`` says whether to check official md5s.

    Raises:
        DatasetNotFoundError: listing every folder searched, the files needed, and how to provide them.
    """
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise invalid_type("root", "None or a folder (a str or os.PathLike)", root)
    download = check_bool(download, "download")
    searched: list[str] = []
    for folder, verify in candidate_dirs(source, root):
        found, why = find(folder)
        if found is not None:
            return found, verify
        searched.append(f"  {folder}: {why}")
    if root is None and not os.environ.get(ENV_VAR):
        searched.insert(0, f"  ${ENV_VAR}/{source.name}: skipped, {ENV_VAR} is not set")

    if not download:
        outcome = "No download was tried (download=False)."
    else:
        target = Path(root).expanduser() if root is not None else user_cache_dir() / source.name
        try:
            with _undone_on_failure(target):
                fetch(target)
        except (OSError, ValueError) as e:
            outcome = f"Downloading from {source.mirror} into {target} failed: {e}"
        else:
            found, why = find(target)
            if found is not None:
                return found, True
            outcome = f"After downloading into {target} the files are still incomplete: {why}"
    raise DatasetNotFoundError(_not_found_message(source, root, searched, outcome))


@contextlib.contextmanager
def _undone_on_failure(target: Path) -> Iterator[None]:
    """When the block raises, remove what it created in ``target`` (and ``target`` itself, with the
    folders above it that it created, if they are left empty); never anything that was there before.

    What is new is judged by ``target``'s entries before the block: a new file goes, a new folder goes
    with everything in it (all of it new); folders that existed are only looked at, never changed.
    """
    missing = []  # target and its ancestors that do not exist yet, deepest first
    folder = target
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    before = set(target.iterdir()) if target.is_dir() else set()
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            for entry in set(target.iterdir()) - before if target.is_dir() else ():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        for folder in missing:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        raise


def _not_found_message(
    source: DatasetSource, root: str | os.PathLike[str] | None, searched: list[str], outcome: str
) -> str:
    lines = [f"{source.title} was not found. Searched, in order:", *searched, outcome, f"Needed: {source.needed}."]
    if root is not None:
        lines.append("Put the files in that folder, or call without `root` to use the default search path.")
    else:
        how = (
            f"Put the files in one of these folders, or set {ENV_VAR} to a folder whose {source.name}/ "
            "subfolder holds them"
        )
        if source.apt_package:
            how += f", or on Debian/Ubuntu run: sudo apt-get install {source.apt_package}"
        lines.append(how + ".")
    return "\n".join(lines)
