"""`orch doctor`: is this machine and this project ready to run orch unattended?

Checks are data (`Check`: name, status ok/warn/fail/skip, detail, fix) computed by
`run_checks`; the command only renders them. A check never raises: a failure to check is
itself a `fail` line that says what to do. Nothing here writes anything except a probe
file in the state directory (removed again).
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import taskid
from orch.admin.init import project_labels
from orch.admin.service import Host, status
from orch.agents.probe import probe
from orch.errors import AuthError, GhMissing, GitHubError, NotFound, OrchError
from orch.io.gh import Gh, gh_version
from orch.labels import status_of
from orch.project import find_root, load_project
from orch.run.view import supervisor_alive
from orch.status import Status
from orch.task.attempt import read_sidecar

if TYPE_CHECKING:
    from orch.deps import Deps
    from orch.project import Project
    from orch.store.base import Issue, Store

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
MIN_GH = (2, 20, 0)
DRIFT_SHOWN = 5


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail | skip
    detail: str
    fix: str = ""

    def line(self, width: int = 12) -> str:
        text = f"{self.status:<4}  {self.name:<{width}}  {self.detail}"
        return f"{text}; {self.fix}" if self.fix and self.status != OK else text

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_json() for c in self.checks]}


def run_checks(deps: Deps) -> Report:
    """The checks of the project in hand (--project, or the checkout orch runs in); outside
    any checkout, of every registered project (machine-wide checks once)."""
    registered = _registered_roots(deps)
    if deps.project_spec or find_root(deps.cwd) is not None or not registered:
        return _project_report(deps)
    checks: list[Check] = []
    seen: set[str] = set()
    for root in registered:
        one = dataclasses.replace(deps, project_spec=str(root), _project=None)
        report = _project_report(one)
        label = one._project.repo if one._project is not None else root.name
        for check in report.checks:
            if check.name in MACHINE_CHECKS:
                if check.name not in seen:
                    seen.add(check.name)
                    checks.append(check)
            else:
                checks.append(dataclasses.replace(check, name=f"{label}: {check.name}"))
    return Report(tuple(checks))


MACHINE_CHECKS = frozenset({"state dir", "gh", "timer", "env file"})


def _registered_roots(deps: Deps) -> list[Path]:
    try:
        return [Path(p).expanduser() for p in deps.global_config().projects]
    except OrchError:
        return []  # a broken global file: the single-project report says so


def _project_report(deps: Deps) -> Report:
    checks: list[Check] = []
    project, config_check = _config(deps)
    checks.append(config_check)
    checks.append(_state_dir(deps))
    github = project is not None and project.config.store == "github"
    gh_ok = False
    if project is None or github:
        gh_check = _gh_installed()
        checks.append(gh_check)
        gh_ok = gh_check.status != FAIL
    else:
        checks.append(Check("gh", OK, "not needed (store: local)"))
    store: Store | None = None
    if project is None:
        for name in ("gh auth", "repo", "labels"):
            checks.append(Check(name, SKIP, "needs a valid project configuration"))
    elif github and not gh_ok:
        for name in ("gh auth", "repo", "labels"):
            checks.append(Check(name, SKIP, "needs gh"))
    else:
        if github:
            # With an App, gh uses its installation token, which is no user (GET /user is
            # 403): the App check stands for gh's.
            auth = (
                _app(deps, project)
                if project.config.app is not None
                else _guard("gh auth", lambda: _gh_auth(deps, project))
            )
            checks.append(auth)
            repo = (
                _guard("repo", lambda: _repo(deps, project))
                if auth.status == OK
                else Check("repo", SKIP, "needs gh authentication")
            )
            checks.append(repo)
            if repo.status != FAIL and auth.status == OK:
                store = deps.store(project)
        else:
            store = deps.store(project)
        if store is not None:
            checks.append(_guard("labels", lambda: _labels(store, project)))
        else:
            checks.append(Check("labels", SKIP, "needs access to the repository"))
    if project is not None:
        checks.extend(_agents(project))
        checks.append(_registered(project))
        checks.extend(_notify(project))
    checks.extend(_registered_configs(deps, project))
    checks.extend(_timer(deps))
    if project is not None and store is not None:
        checks.append(_guard("drift", lambda: _drift(deps, project, store)))
    else:
        checks.append(Check("drift", SKIP, "needs access to the repository"))
    return Report(tuple(checks))


def _guard(name: str, check: Callable[[], Check]) -> Check:
    """Run a check; a foreseeable error becomes its fail line."""
    try:
        return check()
    except AuthError as exc:
        return Check(name, FAIL, exc.message, "run `gh auth login` or put GH_TOKEN in the env file")
    except OrchError as exc:
        return Check(name, FAIL, exc.message)


# ---------------------------------------------------------------------------------------
# The checks


def _config(deps: Deps) -> tuple[Project | None, Check]:
    try:
        project = deps.project()
    except OrchError as exc:
        # Most messages already say what to do; add a hint only when they do not.
        says_what_to_do = any(w in exc.message for w in ("run `", "run orch", "fix the file"))
        fix = "" if says_what_to_do else "fix the file and key named above"
        return None, Check("config", FAIL, exc.message, fix)
    files = [
        str(f)
        for f in (project.config.global_file, project.config.project_file)
        if f is not None and f.exists()
    ]
    where = ", ".join(files) or "defaults only"
    if project.config.warnings:
        first = project.config.warnings[0]
        more = len(project.config.warnings) - 1
        return project, Check(
            "config",
            WARN,
            f"{project.repo}: {first}" + (f" (+{more} more)" if more else ""),
            "remove or rename the unknown keys",
        )
    return project, Check("config", OK, f"{project.repo} ({project.config.store} store): {where}")


def _state_dir(deps: Deps) -> Check:

    state = deps.paths.state_dir
    try:
        state.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=state, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            "state dir",
            FAIL,
            f"{state} is not writable: {exc.strerror}",
            "fix its permissions or set ORCH_HOME to a writable directory",
        )
    return Check("state dir", OK, f"{state} is writable")


def _gh_installed() -> Check:

    try:
        path, version = gh_version()
    except GhMissing:
        return Check(
            "gh",
            FAIL,
            "gh not found on PATH",
            "install GitHub CLI (https://cli.github.com) and run `gh auth login`",
        )
    if version is None:
        return Check("gh", WARN, f"{path}: cannot read its version", "check `gh --version`")
    parts = tuple(int(x) for x in version.split("."))
    if parts < MIN_GH:
        return Check(
            "gh",
            FAIL,
            f"gh {version} at {path} is too old (orch needs >= 2.20)",
            "upgrade GitHub CLI (https://cli.github.com)",
        )
    return Check("gh", OK, f"gh {version} at {path}")


def _gh(deps: Deps, project: Project) -> Any:

    auth = deps.app_auth(project)
    return Gh(
        host=project.config.gh.host,
        backoff=project.config.gh.backoff,
        paths=deps.paths,
        clock=deps.clock,
        auth=auth,
    )


def _app(deps: Deps, project: Project) -> Check:
    """`github:` App: key readable, JWT accepted, installation found (nothing minted)."""
    auth = deps.app_auth(project)
    if auth is None:
        return Check(
            "github app",
            FAIL,
            "github.app_id is set but the project has no gh.repo",
            "set gh.repo: OWNER/REPO in .orch.yml",
        )
    try:
        bot, installation = auth.verify()
    except OrchError as exc:
        return Check("github app", FAIL, exc.message)
    detail = (
        f"App {auth.app.app_id} ({bot}) installed on {project.repo} (installation {installation})"
    )
    key = auth.app.private_key_path
    if key.stat().st_mode & 0o077:
        return Check(
            "github app",
            WARN,
            f"{detail}; but {key} is readable by other users",
            f"chmod 600 {key}",
        )
    return Check("github app", OK, detail)


def _gh_auth(deps: Deps, project: Project) -> Check:
    host = project.config.gh.host
    try:
        user = _gh(deps, project).rest("GET", "user")
    except AuthError:
        return Check(
            "gh auth",
            FAIL,
            f"gh is not authenticated for {host}",
            f"run `gh auth login --hostname {host}` or put GH_TOKEN=… in "
            f"{deps.paths.env_file} (mode 600) for the timer",
        )
    except GitHubError as exc:
        return Check(
            "gh auth",
            FAIL,
            f"cannot reach {host}: {exc.message}",
            "check the network and gh.host in the config",
        )
    login = user.get("login") if isinstance(user, dict) else None
    return Check("gh auth", OK, f"logged in to {host} as {login or '?'}")


def _repo(deps: Deps, project: Project) -> Check:
    try:
        data = _gh(deps, project).rest("GET", f"repos/{project.repo}")
    except NotFound:
        return Check(
            "repo",
            FAIL,
            f"{project.repo} not found (or not visible to this token)",
            "check gh.repo in .orch.yml and the token's access to the repository",
        )
    perms = data.get("permissions") if isinstance(data, dict) else None
    if not isinstance(perms, dict) and project.config.app is not None:
        return Check(
            "repo",
            OK,
            f"{project.repo}: reachable as the App (its permissions are "
            "set in the App's settings: issues, pull requests, contents: write)",
        )
    perms = perms if isinstance(perms, dict) else {}
    role = next((r for r in ("admin", "maintain", "push", "triage", "pull") if perms.get(r)), None)
    if role in ("admin", "maintain", "push"):
        shown = "write" if role == "push" else role
        return Check("repo", OK, f"{project.repo}: this token has {shown} access")
    return Check(
        "repo",
        FAIL,
        f"{project.repo}: this token has {role or 'no'} access; orch needs write",
        "use a token (or an account) with write access to the repository",
    )


def _labels(store: Store, project: Project) -> Check:

    present = {name.lower() for name in store.list_labels()}
    wanted = [spec.name for spec in project_labels(project.config)]
    missing = [name for name in wanted if name.lower() not in present]
    if missing:
        shown = ", ".join(missing[:6]) + (
            f", … ({len(missing)} in all)" if len(missing) > 6 else ""
        )
        return Check(
            "labels",
            FAIL,
            f"missing orch labels: {shown}",
            "run `orch init` (safe to re-run) to create them",
        )
    return Check("labels", OK, f"all {len(wanted)} orch labels present")


def _notify(project: Project) -> list[Check]:
    """The Telegram channel's token variable (only when Telegram is configured)."""
    telegram = project.config.notify.telegram
    if telegram is None:
        return []
    if not os.environ.get(telegram.token_env, "").strip():
        return [
            Check(
                "notify",
                WARN,
                f"notify.telegram: {telegram.token_env} is not set, so nothing reaches Telegram",
                f"export {telegram.token_env}=<bot token> (e.g. in the env file)",
            )
        ]
    return [Check("notify", OK, f"telegram: the token is in {telegram.token_env}")]


def _agents(project: Project) -> list[Check]:

    config = project.config
    checks: list[Check] = []
    found = 0
    for name, agent in config.agents.items():
        label = f"agent {name}"
        if name in config.router.disabled_agents:
            checks.append(Check(label, SKIP, "disabled (router.disabled_agents)"))
            continue
        try:
            result = probe(agent, timeout=10)
        except OrchError as exc:
            checks.append(Check(label, WARN, exc.message))
            continue
        if not result.installed:
            checks.append(
                Check(
                    label,
                    WARN,
                    f"{result.command} not found on PATH",
                    f"install it, or set agents.{name}: null in the config if you do not use it",
                )
            )
        elif result.error:
            checks.append(
                Check(
                    label,
                    WARN,
                    f"{result.path}: --version failed: {result.error}",
                    f"run `{result.command} --version` and fix what it says",
                )
            )
            found += 1
        else:
            found += 1
            shown = result.version or (
                "custom command" if agent.family == "command" else "unknown version"
            )
            checks.append(Check(label, OK, f"{shown} at {result.path}"))
    if found == 0:
        checks.append(
            Check(
                "agents",
                FAIL,
                "no agent CLI found: nothing can run tasks",
                "install claude, codex or opencode (or configure agents: in the config)",
            )
        )
    return checks


def _registered(project: Project) -> Check:
    """A timer runs `orch tick` outside any checkout: it ticks the registered projects."""
    registered = {str(Path(p).resolve()) for p in project.config.projects}
    if str(project.root.resolve()) in registered:
        return Check("registered", OK, f"{project.root} is in the global projects list")
    return Check(
        "registered",
        WARN,
        f"{project.root} is not in the global projects list, so a timer's "
        "`orch tick` will not see it",
        f"run `orch project add {project.root}` (or `orch init` here)",
    )


def _registered_configs(deps: Deps, current: Project | None) -> list[Check]:
    """A fail line per other registered project that does not load: `orch tick` skips it
    and exits 2 (the current project's own config is the `config` check)."""

    try:
        registered = deps.global_config().projects
    except OrchError:
        return []  # the config check already says what is wrong with the global file
    here = current.root.resolve() if current is not None else None
    broken: list[Check] = []
    for entry in registered:
        root = find_root(Path(entry))
        if root is None:
            broken.append(
                Check(
                    "projects",
                    FAIL,
                    f"{deps.global_file}: projects: {entry} is not a git repository",
                    f"fix the path or run `orch project remove {entry}`",
                )
            )
            continue
        if root.resolve() == here:
            continue
        try:
            load_project(root, deps.global_file)
        except OrchError as exc:
            broken.append(Check("projects", FAIL, exc.message, "fix the file and key named above"))
    return broken


def _timer(deps: Deps) -> list[Check]:

    checks: list[Check] = []
    try:
        st = status(Host.current(deps.paths), deps.clock.now())
    except OrchError as exc:
        return [Check("timer", WARN, exc.message)]
    if not st.installed:
        checks.append(
            Check(
                "timer",
                WARN,
                "no timer runs `orch tick`",
                "run `orch service install` (or `orch service install --cron`)",
            )
        )
    elif st.enabled is False:
        checks.append(
            Check(
                "timer", WARN, f"{st.kind} timer installed but stopped", "run `orch service start`"
            )
        )
    elif st.last_exit not in (None, 0):
        checks.append(
            Check(
                "timer",
                WARN,
                f"{st.kind} timer: last tick at {st.last_run} exited {st.last_exit}",
                "see `orch log` (and `journalctl --user -u orch-tick` with systemd)",
            )
        )
    else:
        last = f"last tick at {st.last_run} exited 0" if st.last_run else "no tick recorded yet"
        checks.append(Check("timer", OK, f"{st.kind} timer every {st.interval or '?'}s; {last}"))
    env_file = deps.paths.env_file
    if env_file.exists() and env_file.stat().st_mode & 0o077:
        checks.append(
            Check(
                "env file",
                WARN,
                f"{env_file} is readable by other users",
                f"run `chmod 600 '{env_file}'`",
            )
        )
    return checks


def _drift(deps: Deps, project: Project, store: Store) -> Check:

    open_issues: list[Issue] = store.list_issues(state="open")
    tasks = {i.number: status_of(i.labels) for i in open_issues if status_of(i.labels) is not None}
    problems: list[str] = []
    for number, st in sorted(tasks.items()):
        if st is Status.IN_PROGRESS and not supervisor_alive(
            read_sidecar(deps.paths, project.repo, number)
        ):
            problems.append(f"{taskid.ref(number)} is in_progress with no live supervisor here")
    worktrees = deps.paths.worktrees_dir(project.repo)
    if worktrees.is_dir():
        for path in sorted(worktrees.iterdir()):
            owner = taskid.from_text(path.name.split("-", 1)[0])
            if path.is_dir() and owner is not None and owner not in tasks:
                problems.append(f"worktree {path} has no open task")
    if not problems:
        return Check("drift", OK, f"{len(tasks)} open tasks agree with this host")
    shown = "; ".join(problems[:DRIFT_SHOWN])
    if len(problems) > DRIFT_SHOWN:
        shown += f"; … ({len(problems)} in all)"
    return Check(
        "drift",
        WARN,
        shown,
        "the next `orch tick` recovers in_progress tasks (unless another host runs them); "
        "remove stale worktrees with `git worktree remove PATH`",
    )
