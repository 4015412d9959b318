"""The size funchost adds to its base image: every installed distribution's files, summed.

    python scripts/image_size.py /opt/funchost        (a venv the Dockerfile's steps built)

Sizes are of the installed files (the RECORD of each wheel: code, .pyc files, shared
libraries), which is what the image's layer holds; the venv's own files are counted too.
"""

from __future__ import annotations

import sys
from importlib.metadata import distributions
from pathlib import Path

MB = 1_000_000


def site_packages(venv: Path) -> Path:
    """The venv's site-packages folder."""
    found = sorted(venv.glob("lib/python3.*/site-packages"))
    if not found:
        raise SystemExit(f"{venv}: expected a venv with lib/python3.*/site-packages")
    return found[0]


def sizes(venv: Path) -> dict[str, int]:
    """Bytes on disk per distribution installed in the venv."""
    found: dict[str, int] = {}
    for dist in distributions(path=[str(site_packages(venv))]):
        total = 0
        for file in dist.files or ():
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
        found[dist.metadata["Name"]] = total
    return found


def tree_size(folder: Path) -> int:
    """Bytes of every file under a folder (the venv as a whole)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str]) -> int:
    """Print the distributions by size, then the totals in MB."""
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    venv = Path(argv[0])
    by_name = sizes(venv)
    for name, size in sorted(by_name.items(), key=lambda item: -item[1]):
        print(f"{size / MB:8.1f} MB  {name}")
    print(f"{sum(by_name.values()) / MB:8.1f} MB  all {len(by_name)} distributions")
    print(f"{tree_size(venv) / MB:8.1f} MB  the venv as a whole")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
