"""`orch init`: make a checkout an orch project, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch import git
from orch import labels as L
from orch.config import PROJECT_FILE, REPO_RE, Config
from orch.deps import Deps
from orch.errors import ConfigError, OrchError, UsageError
from orch.labels import LabelSpec, base_labels
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
        elif repo is None:
            # Two local checkouts named alike would share `local/<dirname>` (and so their
            # state): give this one its own key.
            from orch.project import unique_local_slug

            repo = unique_local_slug(root, deps.global_file)
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

        text = project_config_text(repo, options.local, options.host)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, PROJECT_FILE).write_text(text)
            config = load_config(deps.global_file, Path(tmp))
        project = Project(root=root, repo=repo or repo_slug(root, config), config=config)
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
    `orch.taskops.ensure_labels_cached` reads (a sorted list of names)."""
    from orch.sidecar import read_json, write_json_atomic

    cache_file = repo_dir / "labels.json"
    known = set(read_json(cache_file, []) or [])
    write_json_atomic(cache_file, sorted(known | set(names)))
