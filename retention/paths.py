"""Files the retention code may write or delete: only inside folders it owns, checked before any write or removal.

A workspace's exports live in `<exports root>/<workspace id>/`. Every path is resolved and must be a direct child of
the resolved root: `..`, absolute paths, names with a separator and symlinks pointing anywhere are refused, so a
hostile or careless id or `--out` can never reach another folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

# A folder name we create: no separator, not "." or "..", no leading dot, printable and short.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class PathRefused(RuntimeError):
    """A path outside the folders retention owns (or a symlink): nothing was written or removed."""


def owned_child(root: Path, name: str) -> Path:
    """`root/name` resolved, if it is a plain direct child of `root` and not a symlink; else PathRefused."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise PathRefused(f"refused {name!r}: a plain folder name is needed (letters, digits, '.', '-', '_')")
    base = root.resolve()
    target = base / name
    if target.is_symlink():
        raise PathRefused(f"refused {target}: it is a symlink (retention never follows one)")
    resolved = target.resolve()
    if resolved.parent != base or not resolved.is_relative_to(base):
        raise PathRefused(f"refused {target}: it resolves outside {base}")
    return resolved


def count_files(folder: Path) -> int:
    """Files (and symlinks) under `folder`, not following symlinks."""
    return sum(
        len(files) + sum(1 for d in dirs if (Path(top) / d).is_symlink()) for top, dirs, files in os.walk(folder)
    )


def remove_owned(root: Path, name: str) -> int:
    """Delete `root/name` (checked by `owned_child`) with everything in it; the number of files removed."""
    target = owned_child(root, name)
    if not target.exists():
        return 0
    if not target.is_dir():
        raise PathRefused(f"refused {target}: not a folder")
    count = count_files(target)
    shutil.rmtree(target)  # removes symlinks inside, never what they point to
    return count


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) mode 0700; an existing folder is left as it is."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
    return path
