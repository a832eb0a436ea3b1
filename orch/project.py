"""Which project a command works on: its checkout, its OWNER/REPO and its config."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from orch.config.model import REPO_RE, Config, load_config
from orch.errors import ConfigError, OrchError, UsageError
from orch.io import git


@dataclass(frozen=True)
class Project:
    root: Path  # the checkout (or the bare clone for projects added as OWNER/REPO)
    repo: str  # OWNER/REPO: the key of every lock, sidecar, worktree and tmux name
    config: Config

    @property
    def name(self) -> str:
        return self.repo

    @property
    def local_store_dir(self) -> Path:
        return self.root / ".orch" / "local"

    @property
    def internal_store_dir(self) -> Path:
        """Internal tasks (orch.store.internal), whatever the project's store."""
        return self.root / ".orch" / "internal"


def repo_slug(root: Path, config: Config) -> str:
    """OWNER/REPO from config, else from the origin remote, else local/<dirname>."""
    if config.gh.repo:
        return config.gh.repo
    url = git.remote_url(root)
    parsed = git.repo_from_url(url) if url else None
    if parsed:
        return parsed[1]
    if config.store == "local":
        return f"local/{_safe(root.name)}"
    raise ConfigError(
        f"{root / '.orch.yml'}: gh.repo is not set and the origin remote "
        f"({url or 'none'}) is not a GitHub URL; run `orch init --repo OWNER/REPO`"
    )


def registered_repos(global_file: Path | None, *, skip: Path | None = None) -> dict[str, Path]:
    """OWNER/REPO (lowercased) -> root of every registered project that loads, except
    `skip`. The key names every lock, sidecar and worktree, so it must be unique."""
    found: dict[str, Path] = {}
    for entry in load_config(global_file, None).projects:
        root = find_root(Path(entry).expanduser())
        if root is None or (skip is not None and root.resolve() == skip.resolve()):
            continue
        try:
            found.setdefault(load_project(root, global_file).repo.lower(), root)
        except OrchError:
            continue  # a broken entry is doctor's business, not a collision
    return found


def unique_local_slug(root: Path, global_file: Path | None) -> str | None:
    """For a new local-store checkout without a GitHub origin: None when its derived key
    `local/<dirname>` is free, else the first free `local/<dirname>-N` (for gh.repo)."""
    url = git.remote_url(root)
    if url and git.repo_from_url(url):
        return None
    base = f"local/{_safe(root.name)}"
    taken = registered_repos(global_file, skip=root)
    if base.lower() not in taken:
        return None
    n = 2
    while f"{base}-{n}".lower() in taken:
        n += 1
    return f"{base}-{n}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name) or "repo"


def find_root(path: Path) -> Path | None:
    if not path.exists():
        return None
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        return path  # a bare clone made by `orch project add OWNER/REPO`
    return git.toplevel(path)


def load_project(root: Path, global_file: Path | None) -> Project:
    config = load_config(global_file, root)
    return Project(root=root, repo=repo_slug(root, config), config=config)


def resolve(spec: str | None, cwd: Path, global_file: Path | None) -> Project:
    """The project named by --project (a path or OWNER/REPO), else the current checkout."""
    if spec:
        candidate = Path(spec).expanduser()
        if candidate.exists():
            root = find_root(candidate.resolve())
            if root is None:
                raise UsageError(f"--project {spec}: not a git repository")
            return load_project(root, global_file)
        if REPO_RE.match(spec):
            global_config = load_config(global_file, None)
            for registered in global_config.projects:
                root = find_root(Path(registered))
                if root is None:
                    continue
                project = load_project(root, global_file)
                if project.repo.lower() == spec.lower():
                    return project
            raise UsageError(
                f"--project {spec}: no registered project has that repository; "
                "add it with `orch project add`"
            )
        raise UsageError(f"--project {spec}: no such directory and not OWNER/REPO")
    root = find_root(cwd)
    if root is None:
        raise OrchError(
            f"{cwd} is not inside a git repository: run orch in your project's checkout "
            "or pass --project PATH|OWNER/REPO"
        )
    return load_project(root, global_file)
