"""The project registry (`projects:` in the global config): add, list, remove.

A path registers an existing checkout. OWNER/REPO or a URL makes a bare clone under
`<state>/clones/<owner>/<repo>.git` (worktrees are created from it) with a `.orch.yml`
naming the repository, and registers that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch.config.model import REPO_RE, load_yaml_file
from orch.errors import ConfigError, OrchError, UsageError
from orch.io import git, yamledit
from orch.paths import Paths
from orch.project import find_root, load_project, registered_repos

_URL_RE = re.compile(r"^(?:[a-z+]+://|[^@/\s]+@[^:/\s]+:)")


@dataclass(frozen=True)
class ProjectEntry:
    path: str
    repo: str | None
    store: str | None
    problem: str = ""  # why it cannot be ticked ("" when fine)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "repo": self.repo,
            "store": self.store,
            "ok": not self.problem,
            "problem": self.problem or None,
        }


@dataclass(frozen=True)
class AddResult:
    root: Path
    repo: str
    cloned_from: str | None
    registered: bool  # False: it was registered already

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.root),
            "repo": self.repo,
            "cloned_from": self.cloned_from,
            "registered": self.registered,
        }


def registered(global_file: Path) -> list[str]:
    raw = load_yaml_file(global_file)
    projects = raw.get("projects") or []
    if not isinstance(projects, list):
        raise ConfigError(f"{global_file}: projects: must be a list of paths")
    return [str(p) for p in projects]


def _save(global_file: Path, projects: list[str]) -> None:

    yamledit.set_key(global_file, "projects", projects)


def clone_target(spec: str, host: str) -> tuple[str, str]:
    """(clone URL, OWNER/REPO) for `OWNER/REPO` or a git URL (pure)."""
    if REPO_RE.match(spec) and not Path(spec).expanduser().exists():
        return f"https://{host}/{spec}.git", spec
    if not _URL_RE.match(spec):
        raise UsageError(f"{spec}: not a directory, OWNER/REPO or a git URL")
    parsed = git.repo_from_url(spec)
    if parsed is not None:
        return spec, parsed[1]
    # file:// and other URLs: the last two path components name the repository.
    parts = [p for p in re.split(r"[/:]", spec.rstrip("/")) if p]
    if len(parts) < 2:
        raise UsageError(f"{spec}: cannot tell OWNER/REPO from this URL")
    return spec, f"{parts[-2]}/{parts[-1].removesuffix('.git')}"


def add_project(
    paths: Paths, global_file: Path, spec: str, host: str, *, dry_run: bool
) -> AddResult:

    candidate = Path(spec).expanduser()
    cloned_from = None
    clone = False
    if candidate.exists():
        root = find_root(candidate.resolve())
        if root is None:
            raise UsageError(f"{spec}: not a git repository; run `git init` or clone it first")
        repo = load_project(root, global_file).repo  # fails early with what to fix
    else:
        cloned_from, repo = clone_target(spec, host)
        owner, name = repo.split("/", 1)
        root = paths.clones_dir() / owner / f"{name}.git"
        clone = not root.exists()
    projects = registered(global_file)
    fresh = str(root) not in {str(Path(p).expanduser()) for p in projects}
    if fresh:
        _refuse_shared_key(global_file, spec, root, repo)
    if clone and not dry_run and cloned_from is not None:
        # Only after every check: a refused add leaves nothing behind.
        try:
            git.clone_bare(cloned_from, root)
        except git.GitError as exc:
            raise OrchError(f"cannot clone {cloned_from}: {exc.message}") from exc
        (root / ".orch.yml").write_text(f"gh:\n  repo: {repo}\n", encoding="utf-8")
    if fresh and not dry_run:
        _save(global_file, [*projects, str(root)])
    return AddResult(root, repo, cloned_from, fresh)


def _refuse_shared_key(global_file: Path, spec: str, root: Path, repo: str) -> None:
    """Two registered projects may not share OWNER/REPO: their state would collide."""

    other = registered_repos(global_file, skip=root).get(repo.lower())
    if other is not None:
        raise UsageError(
            f"{spec}: {other} is already registered as {repo} and two projects cannot "
            f"share a key; set a distinct gh.repo in {root / '.orch.yml'} (e.g. "
            f"{repo}-2 for a local store) or `orch project remove {other}`"
        )


def list_projects(global_file: Path) -> list[ProjectEntry]:

    found = []
    for entry in registered(global_file):
        root = find_root(Path(entry).expanduser())
        if root is None:
            found.append(
                ProjectEntry(entry, None, None, "not a git repository (moved or deleted?)")
            )
            continue
        try:
            project = load_project(root, global_file)
        except OrchError as exc:
            found.append(ProjectEntry(entry, None, None, exc.message))
            continue
        found.append(ProjectEntry(entry, project.repo, project.config.store))
    return found


def remove_project(global_file: Path, spec: str, *, dry_run: bool) -> str:
    """Unregister by path or OWNER/REPO; return the path removed. Files are kept."""
    entries = list_projects(global_file)
    wanted = str(Path(spec).expanduser().resolve()) if Path(spec).expanduser().exists() else spec
    for entry in entries:
        if wanted in (entry.path, str(Path(entry.path).expanduser())) or (
            entry.repo and entry.repo.lower() == spec.lower()
        ):
            if not dry_run:
                _save(global_file, [e.path for e in entries if e.path != entry.path])
            return entry.path
    names = ", ".join(e.repo or e.path for e in entries) or "none"
    raise UsageError(f"{spec}: no registered project by that path or name (registered: {names})")
