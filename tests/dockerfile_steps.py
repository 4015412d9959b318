"""The repository's Dockerfile, read and replayed outside Docker (no engine runs here).

``parse`` turns it into instructions; ``Rootfs`` replays them in a temporary folder that
stands for the image's root: COPY honours .dockerignore, RUN runs in sh with the image's
paths moved under that folder, ENV is kept for the command. What cannot run as the current
user (creating the image's user) is left out, and the test says so.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
_ROOTS = ("/opt/", "/tmp/", "/home/")  # the image paths the steps use


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: its keyword (upper case) and the rest of its line."""

    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with comments dropped and continuation lines joined."""
    found: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(args.split())))
        pending = ""
    return found


def env_pairs(args: str) -> dict[str, str]:
    """ENV's ``key=value`` pairs."""
    return dict(pair.split("=", 1) for pair in shlex.split(args))


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves this path (or a folder above it) out; the last match wins."""
    parts = relative.split("/")
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.lstrip("!")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if fnmatch.fnmatch(prefix, glob) or (
                glob.startswith("**/") and fnmatch.fnmatch(parts[depth - 1], glob[3:])
            ):
                verdict = not negated
                break
    return verdict


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class Rootfs:
    """A folder standing for the image's root, filled by replaying the Dockerfile's steps."""

    def __init__(self, root: Path, build_args: dict[str, str]) -> None:
        self.root = root
        self.args = build_args
        self.env: dict[str, str] = {}
        self.workdir = "/"
        self.patterns = ignore_patterns()

    def path(self, image_path: str) -> Path:
        """Where an image path lives in this folder."""
        return self.root / image_path.lstrip("/")

    def moved(self, text: str) -> str:
        """Image paths in a command or setting, moved under this folder."""
        pattern = "|".join(re.escape(r) for r in _ROOTS)
        return re.sub(rf"(?<![\w/.])({pattern})", lambda m: f"{self.root}{m.group(1)}", text)

    def expand(self, text: str) -> str:
        """${ARG} and $ARG of the build arguments."""
        for name, value in self.args.items():
            text = text.replace(f"${{{name}}}", value).replace(f"${name}", value)
        return text

    def copy(self, args: str) -> None:
        """COPY src... dest from the repository, minus what .dockerignore leaves out."""
        *sources, dest = shlex.split(self.expand(args))
        for source in sources:
            assert not ignored(source.rstrip("/"), self.patterns), f"{source} is .dockerignored"
            src = REPO / source
            target = self.path(dest)
            if src.is_dir():
                shutil.copytree(src, target, ignore=self._ignore(src), dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / src.name)

    def _ignore(self, top: Path):  # type: ignore[no-untyped-def]
        def names(folder: str, entries: list[str]) -> list[str]:
            base = Path(folder).relative_to(REPO).as_posix()
            return [e for e in entries if ignored(f"{base}/{e}", self.patterns)]

        return names

    def run(self, command: str, python: str) -> None:
        """RUN in sh, with the base image's ``python`` being the given interpreter."""
        script = self.moved(self.expand(command))
        script = re.sub(r"(?<![\w/.-])python(?= )", python, script)
        subprocess.run(["sh", "-c", script], check=True, timeout=600, env=self.process_env())

    def set_env(self, args: str) -> None:
        """ENV: kept with image paths moved; $PATH is the current one."""
        for key, value in env_pairs(args).items():
            self.env[key] = self.moved(value).replace("$PATH", os.environ.get("PATH", ""))

    def process_env(self) -> dict[str, str]:
        """The environment the image's command would run with."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("FUNCHOST_")}
        return {**base, **self.env}
