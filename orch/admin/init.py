"""`orch init`: make a checkout an orch project, idempotently."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch import labels as L
from orch.config.model import PROJECT_FILE, REPO_RE, Config, load_config, load_yaml_file
from orch.deps import Deps, make_gh
from orch.errors import ConfigError, OrchError, UsageError
from orch.io import git, yamledit
from orch.io.sidecar import read_json, write_json_atomic, write_text_atomic
from orch.labels import LabelSpec, base_labels
from orch.project import Project, find_root, load_project, repo_slug, unique_local_slug


@dataclass(frozen=True)
class InitOptions:
    start: Path
    repo: str | None = None
    local: bool = False
    labels: bool = True
    host: str | None = None
    dry_run: bool = False


def init_project(deps: Deps, options: InitOptions) -> InitResult:
    """Set the checkout up. Everything is checked (gh, login, write access) before the
    first write, so a refused init leaves no .orch.yml and no registration behind."""
    root = find_root(options.start.resolve())
    if root is None:
        raise OrchError(
            f"{options.start} is not inside a git repository: run `git init` first, "
            "or run orch init in your project's checkout"
        )
    if options.repo and not REPO_RE.match(options.repo):
        raise UsageError(f"--repo {options.repo!r}: expected OWNER/REPO")
    config_file = root / PROJECT_FILE
    text: str | None = None
    if not config_file.exists():
        text = project_config_text(_new_repo(deps, root, options), options.local, options.host)
    elif options.repo or options.local or options.host:
        deps.console.warn(
            f"{config_file} exists and was kept; edit it to change gh.repo, gh.host or store"
        )
    project = _prospective_project(deps, root, text)
    registered = str(root) not in project.config.projects and not _is_registered(deps, root)
    if project.config.store == "github" and (text is not None or registered):
        check_access(deps, project)
    if not options.dry_run:
        if text is not None:
            write_text_atomic(config_file, text)
            project = load_project(root, deps.global_file)
        registered = register_project(deps.global_file, root)
    deps._project = project
    created: list[str] = []
    if options.labels:
        store = deps.store(project, dry_run=options.dry_run)
        specs = project_labels(project.config)
        created = store.ensure_labels(specs)
        if not options.dry_run:
            remember_labels(deps.paths.repo_dir(project.repo), [s.name for s in specs])
    ignored = False
    if not options.dry_run:
        ignored = git.exclude_locally(root, "/.orch/")
    elif not git.is_ignored(root, ".orch/local"):
        ignored = True
    return InitResult(
        root=root,
        repo=project.repo,
        store=project.config.store,
        wrote_config=text is not None,
        registered=registered,
        labels_created=created,
        ignored=ignored,
    )


def _new_repo(deps: Deps, root: Path, options: InitOptions) -> str | None:
    """The `gh.repo` of a new .orch.yml: --repo, the origin remote, or a local key."""
    if options.repo is not None:
        return options.repo
    if options.local:
        # Two local checkouts named alike would share `local/<dirname>` (and so their
        # state): give this one its own key.
        return unique_local_slug(root, deps.global_file)
    url = git.remote_url(root)
    parsed = git.repo_from_url(url) if url else None
    if parsed is None:
        raise UsageError(
            f"cannot tell the GitHub repository from the origin remote ({url or 'none'}): "
            "pass --repo OWNER/REPO, or --local to keep tasks in local files"
        )
    return None  # the project file leaves gh.repo to the origin remote


def _prospective_project(deps: Deps, root: Path, text: str | None) -> Project:
    """The project as it is, or as it will be once `text` is its .orch.yml (validated
    without touching the checkout)."""
    if text is None:
        return load_project(root, deps.global_file)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, PROJECT_FILE).write_text(text, encoding="utf-8")
        config = load_config(deps.global_file, Path(tmp))
    return Project(root=root, repo=config.gh.repo or repo_slug(root, config), config=config)


def _is_registered(deps: Deps, root: Path) -> bool:
    projects = load_yaml_file(deps.global_file).get("projects") or []
    return isinstance(projects, list) and str(root) in {str(Path(p).expanduser()) for p in projects}


def check_access(deps: Deps, project: Project) -> None:
    """gh is installed, logged in to the project's host and may write to the repository
    (one GET repos/OWNER/REPO); raises GhMissing, AuthError (exit 4), NotFound or
    OrchError otherwise."""
    gh = make_gh(project, deps)
    data = gh.rest("GET", f"repos/{project.repo}")
    role = repo_role(data)
    if role not in WRITE_ROLES:
        raise OrchError(
            f"{project.repo} on {gh.host}: this token has {role or 'no'} access and orch "
            "needs write; use an account or token with write access (nothing was written)"
        )


WRITE_ROLES = ("admin", "maintain", "push")


def repo_role(data: Any) -> str | None:
    """The strongest role in a REST repository's `permissions` (None: no access)."""
    perms = data.get("permissions") if isinstance(data, dict) else None
    perms = perms if isinstance(perms, dict) else {}
    return next((r for r in ("admin", "maintain", "push", "triage", "pull") if perms.get(r)), None)


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

    raw = load_yaml_file(global_file)
    projects = raw.get("projects") or []
    if not isinstance(projects, list):
        raise ConfigError(f"{global_file}: projects: must be a list of paths")
    if str(root) in {str(Path(p).expanduser()) for p in projects}:
        return False
    yamledit.set_key(global_file, "projects", [*map(str, projects), str(root)])
    return True


def project_labels(config: Config) -> list[LabelSpec]:
    """The fixed labels plus the dynamic ones this configuration can produce
    (`agent:` per configured agent, `model:` per model_map model), created once at init
    so routing and running never list or create labels."""
    names = [f"{L.AGENT_PREFIX}{name}" for name in config.agents]
    names += [
        f"{L.MODEL_PREFIX}{model}"
        for tier in config.model_map.values()
        for model in tier.values()
        if model
    ]
    if config.router.model:
        names.append(f"{L.MODEL_PREFIX}{config.router.model}")
    specs = base_labels()
    fixed = {spec.name for spec in specs}
    return specs + [L.spec_for(name) for name in sorted(set(names) - fixed)]


def remember_labels(repo_dir: Path, names: list[str]) -> None:
    """Record the labels known to exist in the label cache that
    `orch.task.ops.ensure_labels_cached` reads (a sorted list of names)."""

    cache_file = repo_dir / "labels.json"
    known = set(read_json(cache_file, []) or [])
    write_json_atomic(cache_file, sorted(known | set(names)))
