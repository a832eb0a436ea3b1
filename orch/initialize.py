"""`orch init`: make a checkout an orch project, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch import git
from orch.config import PROJECT_FILE, REPO_RE
from orch.deps import Deps
from orch.errors import ConfigError, OrchError, UsageError
from orch.labels import base_labels
from orch.project import find_root, load_project
from orch.sidecar import write_text_atomic


@dataclass(frozen=True)
class InitOptions:
    start: Path
    repo: str | None = None
    local: bool = False
    labels: bool = True
    host: str | None = None
    dry_run: bool = False


def init_project(deps: Deps, options: InitOptions) -> InitResult:
    root = find_root(options.start.resolve())
    if root is None:
        raise OrchError(
            f"{options.start} is not inside a git repository: run `git init` first, "
            "or run orch init in your project's checkout"
        )
    if options.repo and not REPO_RE.match(options.repo):
        raise UsageError(f"--repo {options.repo!r}: expected OWNER/REPO")
    config_file = root / PROJECT_FILE
    wrote = False
    if not config_file.exists():
        repo = options.repo
        if repo is None and not options.local:
            url = git.remote_url(root)
            parsed = git.repo_from_url(url) if url else None
            if parsed is None:
                raise UsageError(
                    f"cannot tell the GitHub repository from the origin remote ({url or 'none'}): "
                    "pass --repo OWNER/REPO, or --local to keep tasks in local files"
                )
        if not options.dry_run:
            write_text_atomic(config_file, project_config_text(repo, options.local, options.host))
        wrote = True
    elif options.repo or options.local or options.host:
        deps.console.warn(
            f"{config_file} exists and was kept; edit it to change gh.repo, gh.host or store"
        )
    if options.dry_run and wrote:
        # Validate what would be written without touching the checkout.
        from orch.config import load_config
        from orch.project import Project, repo_slug

        text = project_config_text(options.repo, options.local, options.host)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, PROJECT_FILE).write_text(text)
            config = load_config(deps.global_file, Path(tmp))
        project = Project(root=root, repo=options.repo or repo_slug(root, config), config=config)
    else:
        project = load_project(root, deps.global_file)
    deps._project = project
    registered = False
    if options.dry_run:
        registered = str(root) not in project.config.projects
    else:
        registered = register_project(deps.global_file, root)
    created: list[str] = []
    if options.labels:
        store = deps.store(project, dry_run=options.dry_run)
        created = store.ensure_labels(base_labels())
    ignored = False
    if not options.dry_run:
        ignored = git.exclude_locally(root, "/.orch/")
    elif not git.is_ignored(root, ".orch/local"):
        ignored = True
    return InitResult(
        root=root,
        repo=project.repo,
        store=project.config.store,
        wrote_config=wrote,
        registered=registered,
        labels_created=created,
        ignored=ignored,
    )


@dataclass
class InitResult:
    root: Path
    repo: str
    store: str
    wrote_config: bool
    registered: bool
    labels_created: list[str]
    ignored: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "repo": self.repo,
            "store": self.store,
            "wrote_config": self.wrote_config,
            "registered": self.registered,
            "labels_created": self.labels_created,
            "ignored_state": self.ignored,
        }


def project_config_text(repo: str | None, local: bool, host: str | None) -> str:
    lines = ["# orch project configuration (see `orch config show` for every key)"]
    if local:
        lines.append("store: local")
    if repo or host:
        lines.append("gh:")
        if repo:
            lines.append(f"  repo: {repo}")
        if host:
            lines.append(f"  host: {host}")
    return "\n".join(lines) + "\n"


def register_project(global_file: Path, root: Path) -> bool:
    """Add `root` to `projects:` in the global config (keeping the file's comments)."""
    from orch import yamledit
    from orch.config import load_yaml_file

    raw = load_yaml_file(global_file)
    projects = raw.get("projects") or []
    if not isinstance(projects, list):
        raise ConfigError(f"{global_file}: projects: must be a list of paths")
    if str(root) in {str(Path(p).expanduser()) for p in projects}:
        return False
    yamledit.set_key(global_file, "projects", [*map(str, projects), str(root)])
    return True
