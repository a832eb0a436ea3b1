"""Configuration (SPEC §4): global `config.yml` + project `.orch.yml`, merged and validated.

Loaded once per process into an immutable `Config`. Project values win over global ones;
mappings are deep-merged, lists replaced. Unknown keys are warnings; wrong types and values
are `ConfigError`s (exit 2) naming the file, the key path and the valid values.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from croniter import croniter

from orch.errors import ConfigError

PROJECT_FILE = ".orch.yml"
COMPLEXITIES = ("simple", "medium", "complex")
CLAUDE_LIKE = ("claude", "kimi", "minimax")
AGENT_FAMILIES = ("claude", "codex", "opencode", "command")
REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")

_MENTION_RE = re.compile(r"^\S{2,50}$")

DEFAULTS: dict[str, Any] = {
    "projects": [],
    "gh": {
        "repo": None,
        "host": "github.com",
        "backoff": {"mode": "wait", "base_seconds": 30, "max_seconds": 900},
        "project_id": None,
        "project_status_field_id": None,
        "project_status_names": {},
        "project_status_map": {},
    },
    "github": {"app_id": None, "private_key_path": None, "installation_id": None},
    "store": "github",
    "workflow": {
        "intake": "labeled",
        "allowed_users": [],
        "orch_logins": [],
        "auto_close": True,
        "max_attempts": 10,
        "max_parallel": 4,
        "timeout_seconds": 1800,
        "timeout_by_complexity": {"simple": 900, "medium": 1800, "complex": 3600},
        "idle_timeout_seconds": 600,
        "stuck_timeout_seconds": 3600,
        "use_tmux": False,
        "enable_review_agent": False,
        "auto_merge": False,
        "merge_strategy": "squash",
        "max_review_cycles": 2,
        "max_cost_per_task_usd": None,
        "max_cost_per_day_usd": None,
        "required_tools": [],
        "sandbox": True,
        "disallowed_tools": ["Bash(rm -rf *)"],
        "route_per_tick": 10,
        "secret_env": [],
        "prompts_dir": None,
        "context_comments": 10,
        "mention": "@orch",
    },
    "router": {
        "mode": "llm",
        "agent": "claude",
        "model": None,  # None: the router agent's own model (router_model())
        "timeout_seconds": 120,
        "max_route_attempts": 3,
        "fallback_executor": "codex",
        "disabled_agents": [],
    },
    "model_map": {
        "simple": {"claude": "haiku", "codex": "gpt-5.1-codex-mini"},
        "medium": {"claude": "sonnet", "codex": "gpt-5.2"},
        "complex": {"claude": "opus", "codex": "gpt-5.3-codex"},
        "review": {"claude": "sonnet", "codex": "gpt-5.2"},
    },
    "agents": {
        "claude": {"command": "claude"},
        "codex": {"command": "codex", "sandbox": "workspace-write"},
        "opencode": {"command": "opencode"},
    },
    "git": {
        "name": "orch[bot]",
        "email": "orch@users.noreply.github.com",
        "branch_prefix": "orch/",
    },
    "jobs": [],
    "notify": {
        "command": None,
        "slack_webhook_url": None,
        "discord_webhook_url": None,
        "telegram": None,
    },
    "commit": {"max_diff_bytes": 32768},
}
TELEGRAM_API_URL = "https://api.telegram.org"
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TELEGRAM_KEYS = {"token_env": 0, "chat_id": 0, "api_url": 0}


# ---------------------------------------------------------------------------------------
# Frozen config objects


@dataclass(frozen=True)
class BackoffConfig:
    mode: str
    base_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class GhConfig:
    repo: str | None
    host: str
    backoff: BackoffConfig
    project_id: str | None
    project_status_field_id: str | None
    project_status_names: Mapping[str, Any]
    project_status_map: Mapping[str, str]


@dataclass(frozen=True)
class AppConfig:
    """`github:` — a GitHub App orch authenticates as (orch.io.ghapp)."""

    app_id: str
    private_key_path: Path
    installation_id: int | None


@dataclass(frozen=True)
class WorkflowConfig:
    intake: str
    allowed_users: tuple[str, ...]
    # Logins whose orch markers count besides the token's own (other hosts, an App's bot).
    orch_logins: tuple[str, ...]
    auto_close: bool
    max_attempts: int
    max_parallel: int
    timeout_seconds: int
    timeout_by_complexity: Mapping[str, int]
    idle_timeout_seconds: int
    stuck_timeout_seconds: int
    use_tmux: bool
    enable_review_agent: bool
    auto_merge: bool
    merge_strategy: str
    max_review_cycles: int
    max_cost_per_task_usd: float | None
    max_cost_per_day_usd: float | None
    required_tools: tuple[str, ...]
    sandbox: bool
    disallowed_tools: tuple[str, ...]
    route_per_tick: int
    secret_env: tuple[str, ...]
    prompts_dir: str | None
    context_comments: int
    mention: str = "@orch"  # a comment starting with it asks orch (SPEC §12)

    def timeout_for(self, complexity: str | None) -> int:
        if complexity and complexity in self.timeout_by_complexity:
            return self.timeout_by_complexity[complexity]
        return self.timeout_seconds


@dataclass(frozen=True)
class RouterConfig:
    mode: str
    agent: str
    model: str | None
    timeout_seconds: int
    max_route_attempts: int
    fallback_executor: str | None
    disabled_agents: tuple[str, ...]


@dataclass(frozen=True)
class AgentConfig:
    """One agent CLI. `family` says which adapter drives it (claude/codex/opencode/command)."""

    name: str
    family: str
    command: tuple[str, ...]
    input: str = "stdin"  # command agents: stdin | arg
    output: str = "text"  # command agents: text | json
    allowed_tools: tuple[str, ...] = ()
    extra_args: tuple[str, ...] = ()
    sandbox: str | None = None
    models: tuple[str, ...] = ()
    permission: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class GitConfig:
    name: str
    email: str
    branch_prefix: str


@dataclass(frozen=True)
class JobConfig:
    id: str
    schedule: str
    type: str = "task"  # task | bash
    title: str = ""
    body: str = ""
    labels: tuple[str, ...] = ()
    agent: str | None = None
    command: str | None = None
    timeout_seconds: int = 600
    enabled: bool = True
    timezone: str = "UTC"
    created_at: str | None = None
    internal: bool = False  # its tasks are internal (orch.store.internal): no GitHub issue


@dataclass(frozen=True)
class TelegramConfig:
    token_env: str  # the environment variable holding the bot token (never the token)
    chat_id: str
    api_url: str = TELEGRAM_API_URL


@dataclass(frozen=True)
class NotifyConfig:
    """Where notifications go: the command and the built-in HTTP channels (SPEC §4)."""

    command: str | tuple[str, ...] | None = None
    slack_webhook_url: str | None = None
    discord_webhook_url: str | None = None
    telegram: TelegramConfig | None = None

    @property
    def configured(self) -> bool:
        return bool(
            self.command or self.slack_webhook_url or self.discord_webhook_url or self.telegram
        )


@dataclass(frozen=True)
class Config:
    projects: tuple[str, ...]
    gh: GhConfig
    store: str
    workflow: WorkflowConfig
    router: RouterConfig
    model_map: Mapping[str, Mapping[str, str]]
    agents: Mapping[str, AgentConfig]
    git: GitConfig
    jobs: tuple[JobConfig, ...]
    notify_command: str | tuple[str, ...] | None
    global_file: Path | None = None
    project_file: Path | None = None
    warnings: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    notify: NotifyConfig = NotifyConfig()
    commit_max_diff_bytes: int = 32768
    app: AppConfig | None = None  # `github:` App authentication, when configured

    def model_for(self, complexity: str | None, agent: str) -> str | None:
        """The model for a tier and agent; None lets the CLI use its own default."""
        tier = self.model_map.get(complexity or "medium", {})
        model = tier.get(agent)
        return model or None

    def default_agent(self) -> str | None:
        """The agent for a task that names none: fallback executor, router agent, then
        the first configured one, skipping disabled agents."""
        for candidate in (self.router.fallback_executor, self.router.agent, *self.agents):
            if (
                candidate
                and candidate in self.agents
                and candidate not in self.router.disabled_agents
            ):
                return candidate
        return None

    def get(self, dotted: str) -> Any:
        """The merged raw value at a dotted key path (for `orch config get`)."""
        node: Any = self.raw
        for part in dotted.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise KeyError(dotted)
        return node


# ---------------------------------------------------------------------------------------
# Loading


def load_yaml_file(path: Path) -> dict[str, Any]:
    """Read one YAML mapping; a missing file is empty, a broken one a ConfigError."""

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{path}:{where}: invalid YAML: {problem}; fix the file or move it away"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping of keys (got {_type_name(data)})"
        )
    return data


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key (over wins); lists and scalars are replaced."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(global_file: Path | None, project_root: Path | None) -> Config:
    """Load, merge and validate the global file and the project's `.orch.yml`."""
    global_raw = load_yaml_file(global_file) if global_file else {}
    project_file = project_root / PROJECT_FILE if project_root else None
    project_raw = load_yaml_file(project_file) if project_file else {}
    if "projects" in project_raw and project_file is not None:
        raise ConfigError(
            f"{project_file}: key 'projects' belongs in the global config "
            f"({global_file}), not in a project file"
        )
    merged = deep_merge(deep_merge(env_defaults(os.environ), global_raw), project_raw)
    # `agents` and `model_map` entries from users extend the defaults key by key, so a
    # user who configures only `kimi` still has claude, codex and opencode.
    sources = _Sources(global_file, global_raw, project_file, project_raw)
    return _build(merged, sources)


def env_defaults(env: Mapping[str, str]) -> dict[str, Any]:
    """DEFAULTS with gh's own `GH_HOST` as the default `gh.host`, as gh itself does
    (a `gh.host` in a config file still wins)."""
    host = env.get("GH_HOST", "").strip()
    return deep_merge(DEFAULTS, {"gh": {"host": host}}) if host else DEFAULTS


@dataclass
class _Sources:
    global_file: Path | None
    global_raw: Mapping[str, Any]
    project_file: Path | None
    project_raw: Mapping[str, Any]

    def file_for(self, path: tuple[str | int, ...]) -> str:
        """Which file set this key (project wins), for error messages. A missing key is
        blamed on the file that holds its nearest parent (e.g. the job lacking it)."""
        for length in range(len(path), 0, -1):
            found = self._file_holding(path[:length])
            if found:
                return found
        return str(self.project_file or self.global_file or "defaults")

    def _file_holding(self, path: tuple[str | int, ...]) -> str | None:
        for file, raw in (
            (self.project_file, self.project_raw),
            (self.global_file, self.global_raw),
        ):
            node: Any = raw
            found = True
            for part in path:
                if _has(node, part):
                    node = node[part]
                else:
                    found = False
                    break
            if found and file is not None:
                return str(file)
        return None


def _has(node: Any, part: str | int) -> bool:
    """Whether `node[part]` exists (a mapping key or a list index)."""
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and part < len(node)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Validator:
    """Reads typed values out of the merged mapping, collecting warnings."""

    def __init__(self, merged: Mapping[str, Any], sources: _Sources) -> None:
        self.merged = merged
        self.sources = sources
        self.warnings: list[str] = []

    def fail(self, path: tuple[str | int, ...], message: str) -> ConfigError:
        key = ".".join(str(p) for p in path)
        return ConfigError(f"{self.sources.file_for(path)}: {key}: {message}")

    def value(self, path: tuple[str | int, ...]) -> Any:
        node: Any = self.merged
        for part in path:
            if isinstance(node, Mapping):
                node = node.get(part)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return node

    def section(self, path: tuple[str | int, ...], known: Mapping[str, Any]) -> Mapping[str, Any]:
        node = self.value(path)
        if not isinstance(node, Mapping):
            raise self.fail(path, f"must be a mapping (got {_type_name(node)})")
        for key in node:
            if key not in known:
                dotted = ".".join(str(p) for p in (*path, key))
                self.warnings.append(
                    f"{self.sources.file_for((*path, key))}: unknown key '{dotted}' (ignored); "
                    f"known keys: {', '.join(sorted(known))}"
                )
        return node

    def string(
        self,
        path: tuple[str | int, ...],
        *,
        optional: bool = False,
        choices: tuple[str, ...] | None = None,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
    ) -> Any:
        node = self.value(path)
        if node is None and optional:
            return None
        if not isinstance(node, str):
            expected = "one of " + ", ".join(choices) if choices else "a string"
            raise self.fail(path, f"must be {expected} (got {_type_name(node)})")
        if choices and node not in choices:
            raise self.fail(path, f"must be one of {', '.join(choices)} (got {node!r})")
        if pattern and not pattern.match(node):
            raise self.fail(path, f"must be {hint} (got {node!r})")
        return node

    def boolean(self, path: tuple[str | int, ...]) -> bool:
        node = self.value(path)
        if not isinstance(node, bool):
            raise self.fail(path, f"must be true or false (got {_type_name(node)})")
        return node

    def number(
        self,
        path: tuple[str | int, ...],
        *,
        integer: bool = True,
        minimum: float = 0,
        optional: bool = False,
    ) -> Any:
        node = self.value(path)
        if node is None and optional:
            return None
        kind = (int,) if integer else (int, float)
        if isinstance(node, bool) or not isinstance(node, kind):
            what = "a whole number" if integer else "a number"
            raise self.fail(path, f"must be {what} >= {minimum:g} (got {_type_name(node)})")
        if node < minimum:
            raise self.fail(path, f"must be >= {minimum:g} (got {node})")
        return node

    def strings(self, path: tuple[str | int, ...]) -> tuple[str, ...]:
        node = self.value(path)
        if isinstance(node, str):
            return (node,)
        if not isinstance(node, list) or not all(isinstance(x, str) for x in node):
            raise self.fail(path, f"must be a list of strings (got {_type_name(node)})")
        return tuple(node)


def _build(merged: dict[str, Any], sources: _Sources) -> Config:
    v = _Validator(merged, sources)
    v.section((), DEFAULTS)

    gh_config = _gh(v)
    workflow = _workflow(v)
    router = _router(v)

    agents = _agents(v)
    model_map = _model_map(v)
    v.section(("git",), DEFAULTS["git"])
    git = GitConfig(
        name=v.string(("git", "name")),
        email=v.string(("git", "email")),
        branch_prefix=v.string(("git", "branch_prefix")),
    )
    notify = _notify(v)
    v.section(("commit",), DEFAULTS["commit"])
    max_diff_bytes = v.number(("commit", "max_diff_bytes"), minimum=1)

    if router.agent not in agents:
        raise v.fail(
            ("router", "agent"), f"unknown agent {router.agent!r}; configured: {', '.join(agents)}"
        )
    if router.model is None:
        # Each router agent gets a model it knows: `haiku` means nothing to codex.
        router = replace(router, model=router_model(model_map, router.agent))
        merged["router"]["model"] = router.model

    return Config(
        projects=tuple(str(Path(p).expanduser()) for p in v.strings(("projects",))),
        gh=gh_config,
        store=v.string(("store",), choices=("github", "local")),
        workflow=workflow,
        router=router,
        model_map=model_map,
        agents=MappingProxyType(agents),
        git=git,
        jobs=_jobs(v),
        notify_command=notify.command,
        global_file=sources.global_file,
        project_file=sources.project_file,
        warnings=tuple(v.warnings),
        raw=MappingProxyType(merged),
        notify=notify,
        commit_max_diff_bytes=max_diff_bytes,
        app=_app(v),
    )


def _gh(v: _Validator) -> GhConfig:
    """`gh:` — the repository, host, backoff and project board."""

    gh = v.section(("gh",), DEFAULTS["gh"])
    v.section(("gh", "backoff"), DEFAULTS["gh"]["backoff"])
    if not isinstance(gh.get("project_status_names"), Mapping):
        raise v.fail(("gh", "project_status_names"), "must be a mapping")
    if not isinstance(gh.get("project_status_map"), Mapping):
        raise v.fail(("gh", "project_status_map"), "must be a mapping")
    gh_config = GhConfig(
        repo=v.string(("gh", "repo"), optional=True, pattern=REPO_RE, hint="OWNER/REPO"),
        host=v.string(("gh", "host")),
        backoff=BackoffConfig(
            mode=v.string(("gh", "backoff", "mode"), choices=("wait", "skip")),
            base_seconds=v.number(("gh", "backoff", "base_seconds"), integer=False),
            max_seconds=v.number(("gh", "backoff", "max_seconds"), integer=False),
        ),
        project_id=v.string(("gh", "project_id"), optional=True),
        project_status_field_id=v.string(("gh", "project_status_field_id"), optional=True),
        project_status_names=MappingProxyType(dict(gh["project_status_names"])),
        project_status_map=MappingProxyType(
            {str(k): str(x) for k, x in gh["project_status_map"].items()}
        ),
    )
    return gh_config


def _workflow(v: _Validator) -> WorkflowConfig:
    """`workflow:` — intake, limits, timeouts, review and merge."""

    v.section(("workflow",), DEFAULTS["workflow"])
    tbc = v.section(("workflow", "timeout_by_complexity"), {c: 0 for c in COMPLEXITIES})
    workflow = WorkflowConfig(
        intake=v.string(("workflow", "intake"), choices=("labeled", "authored")),
        allowed_users=v.strings(("workflow", "allowed_users")),
        orch_logins=v.strings(("workflow", "orch_logins")),
        auto_close=v.boolean(("workflow", "auto_close")),
        max_attempts=v.number(("workflow", "max_attempts"), minimum=1),
        max_parallel=v.number(("workflow", "max_parallel"), minimum=1),
        timeout_seconds=v.number(("workflow", "timeout_seconds"), minimum=1),
        timeout_by_complexity=MappingProxyType(
            {c: v.number(("workflow", "timeout_by_complexity", c), minimum=1) for c in tbc}
        ),
        idle_timeout_seconds=v.number(("workflow", "idle_timeout_seconds"), minimum=1),
        stuck_timeout_seconds=v.number(("workflow", "stuck_timeout_seconds"), minimum=1),
        use_tmux=v.boolean(("workflow", "use_tmux")),
        enable_review_agent=v.boolean(("workflow", "enable_review_agent")),
        auto_merge=v.boolean(("workflow", "auto_merge")),
        merge_strategy=v.string(
            ("workflow", "merge_strategy"), choices=("squash", "merge", "rebase")
        ),
        max_review_cycles=v.number(("workflow", "max_review_cycles")),
        max_cost_per_task_usd=v.number(
            ("workflow", "max_cost_per_task_usd"), integer=False, optional=True
        ),
        max_cost_per_day_usd=v.number(
            ("workflow", "max_cost_per_day_usd"), integer=False, optional=True
        ),
        required_tools=v.strings(("workflow", "required_tools")),
        sandbox=v.boolean(("workflow", "sandbox")),
        disallowed_tools=v.strings(("workflow", "disallowed_tools")),
        route_per_tick=v.number(("workflow", "route_per_tick"), minimum=1),
        secret_env=v.strings(("workflow", "secret_env")),
        prompts_dir=v.string(("workflow", "prompts_dir"), optional=True),
        context_comments=v.number(("workflow", "context_comments")),
        mention=v.string(
            ("workflow", "mention"),
            pattern=_MENTION_RE,
            hint="a word such as @orch (no spaces)",
        ),
    )
    if workflow.auto_merge and not workflow.enable_review_agent:
        v.warnings.append(
            f"{v.sources.file_for(('workflow', 'auto_merge'))}: workflow.auto_merge merges only "
            "PRs orch's review agent approved; set workflow.enable_review_agent: true "
            "(until then nothing is merged)"
        )
    return workflow


def _router(v: _Validator) -> RouterConfig:
    """`router:` — how tasks are routed (its agent is checked once agents are known)."""

    v.section(("router",), DEFAULTS["router"])
    router = RouterConfig(
        mode=v.string(("router", "mode"), choices=("llm", "round_robin", "fixed")),
        agent=v.string(("router", "agent")),
        model=v.string(("router", "model"), optional=True),
        timeout_seconds=v.number(("router", "timeout_seconds"), minimum=1),
        max_route_attempts=v.number(("router", "max_route_attempts"), minimum=1),
        fallback_executor=v.string(("router", "fallback_executor"), optional=True),
        disabled_agents=v.strings(("router", "disabled_agents")),
    )
    return router


def _notify(v: _Validator) -> NotifyConfig:
    """`notify:` — the command and the built-in channels. Webhook URLs are secrets of a
    kind: they are validated here and never shown in a message or a log."""
    section = v.section(("notify",), DEFAULTS["notify"])
    command = section.get("command")
    if command is not None and not isinstance(command, str | list):
        raise v.fail(("notify", "command"), "must be a command string or a list of arguments")
    urls = {}
    for key in ("slack_webhook_url", "discord_webhook_url"):
        url = v.string(("notify", key), optional=True)
        if url is not None and not url.startswith(("https://", "http://")):
            raise v.fail(("notify", key), "must be an http(s) URL")
        urls[key] = url or None
    telegram = None
    if section.get("telegram") is not None:
        path: tuple[str | int, ...] = ("notify", "telegram")
        v.section(path, _TELEGRAM_KEYS)
        token_env = v.value((*path, "token_env"))
        if not isinstance(token_env, str) or not _ENV_NAME_RE.match(token_env):
            # never echo the value: it may be the token itself, pasted by mistake
            raise v.fail(
                (*path, "token_env"),
                "must be the NAME of the environment variable "
                "holding the bot token (the token itself never goes in a file)",
            )
        chat = v.value((*path, "chat_id"))
        if isinstance(chat, bool) or not isinstance(chat, str | int) or not str(chat).strip():
            raise v.fail((*path, "chat_id"), "must be the chat id (a number or @channelname)")
        api_url = v.string((*path, "api_url"), optional=True) or TELEGRAM_API_URL
        if not api_url.startswith(("https://", "http://")):
            raise v.fail((*path, "api_url"), "must be an http(s) URL")
        telegram = TelegramConfig(
            token_env=token_env, chat_id=str(chat), api_url=api_url.rstrip("/")
        )
    return NotifyConfig(
        command=tuple(command) if isinstance(command, list) else command,
        slack_webhook_url=urls["slack_webhook_url"],
        discord_webhook_url=urls["discord_webhook_url"],
        telegram=telegram,
    )


def router_model(model_map: Mapping[str, Mapping[str, str]], agent: str) -> str | None:
    """The router agent's default model: `model_map.route`, else its `simple` model, else
    None (the CLI's own default)."""
    for tier in ("route", "simple"):
        model = model_map.get(tier, {}).get(agent)
        if model:
            return model
    return None


def _app(v: _Validator) -> AppConfig | None:
    """`github: {app_id, private_key_path, installation_id?}`: all or nothing."""
    section = v.section(("github",), DEFAULTS["github"])
    app_id = section.get("app_id")
    key = section.get("private_key_path")
    if app_id is None and key is None:
        if section.get("installation_id") is not None:
            raise v.fail(("github", "installation_id"), "needs github.app_id and private_key_path")
        return None
    if isinstance(app_id, bool) or not isinstance(app_id, int | str) or not str(app_id).strip():
        raise v.fail(("github", "app_id"), "must be the App's id (a number) or client id")
    key_text = v.string(("github", "private_key_path"))
    path = Path(key_text).expanduser()
    if not path.is_absolute():
        path = (Path(v.sources.file_for(("github", "private_key_path"))).parent / path).absolute()
    installation = v.number(("github", "installation_id"), minimum=1, optional=True)
    return AppConfig(str(app_id).strip(), path, installation)


_AGENT_KEYS = {
    "command": 0,
    "like": 0,
    "input": 0,
    "output": 0,
    "allowed_tools": 0,
    "extra_args": 0,
    "sandbox": 0,
    "models": 0,
    "permission": 0,
    "env": 0,
}


def agent_family(name: str, like: str | None) -> str:
    """Which adapter drives an agent: its `like`, else its own name, else `command`."""
    base = like or name
    if base in CLAUDE_LIKE:
        return "claude"
    if base in ("codex", "opencode"):
        return base
    return "command"


def _agents(v: _Validator) -> dict[str, AgentConfig]:
    raw = v.value(("agents",))
    if not isinstance(raw, Mapping):
        raise v.fail(("agents",), f"must be a mapping of agent names (got {_type_name(raw)})")
    agents: dict[str, AgentConfig] = {}
    for name, entry in raw.items():
        path: tuple[str | int, ...] = ("agents", name)
        if entry is None:
            continue  # `agents: {opencode: null}` removes a default agent
        v.section(path, _AGENT_KEYS)
        command = v.strings((*path, "command")) if "command" in entry else (str(name),)
        if not command or not command[0]:
            raise v.fail((*path, "command"), "must name the executable")
        if len(command) == 1 and " " in command[0] and "like" not in entry:
            # A single string with spaces is an argv written as one line: split it.

            command = tuple(shlex.split(command[0]))
        like = v.string(
            (*path, "like"), optional=True, choices=("claude", "codex", "opencode", *CLAUDE_LIKE)
        )
        permission = entry.get("permission") or {}
        if not isinstance(permission, Mapping):
            raise v.fail((*path, "permission"), "must be a mapping")
        env = entry.get("env") or {}
        if not isinstance(env, Mapping):
            raise v.fail((*path, "env"), "must be a mapping of variable names to values")
        agents[str(name)] = AgentConfig(
            name=str(name),
            family=agent_family(str(name), like),
            command=command,
            input=v.string((*path, "input"), choices=("stdin", "arg"))
            if "input" in entry
            else "stdin",
            output=v.string((*path, "output"), choices=("text", "json"))
            if "output" in entry
            else "text",
            allowed_tools=v.strings((*path, "allowed_tools")) if "allowed_tools" in entry else (),
            extra_args=v.strings((*path, "extra_args")) if "extra_args" in entry else (),
            sandbox=v.string(
                (*path, "sandbox"),
                optional=True,
                choices=("read-only", "workspace-write", "danger-full-access"),
            )
            if "sandbox" in entry
            else None,
            models=v.strings((*path, "models")) if "models" in entry else (),
            permission=MappingProxyType(dict(permission)),
            env=MappingProxyType({str(k): str(x) for k, x in env.items()}),
        )
    return agents


def _model_map(v: _Validator) -> Mapping[str, Mapping[str, str]]:
    raw = v.value(("model_map",))
    if not isinstance(raw, Mapping):
        raise v.fail(("model_map",), "must be a mapping of tiers to {agent: model}")
    result: dict[str, Mapping[str, str]] = {}
    for tier, models in raw.items():
        if tier not in (*COMPLEXITIES, "review", "route"):
            v.warnings.append(
                f"{v.sources.file_for(('model_map', tier))}: unknown tier 'model_map.{tier}' "
                f"(ignored); tiers: simple, medium, complex, review, route"
            )
            continue
        if models is None:
            models = {}
        if not isinstance(models, Mapping):
            raise v.fail(("model_map", tier), "must be a mapping of agent to model")
        clean: dict[str, str] = {}
        for agent, model in models.items():
            if model in (None, "", "..."):
                continue  # empty = the CLI's default model
            if not isinstance(model, str):
                raise v.fail(
                    ("model_map", tier, agent), f"must be a model name (got {_type_name(model)})"
                )
            clean[str(agent)] = model
        result[str(tier)] = MappingProxyType(clean)
    return MappingProxyType(result)


_JOB_KEYS = {
    "id": 0,
    "schedule": 0,
    "type": 0,
    "title": 0,
    "body": 0,
    "labels": 0,
    "agent": 0,
    "command": 0,
    "timeout_seconds": 0,
    "enabled": 0,
    "timezone": 0,
    "created_at": 0,
    "internal": 0,
}
JOB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _jobs(v: _Validator) -> tuple[JobConfig, ...]:
    raw = v.value(("jobs",))
    if not isinstance(raw, list):
        raise v.fail(("jobs",), f"must be a list of jobs (got {_type_name(raw)})")
    jobs: list[JobConfig] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        path: tuple[str | int, ...] = ("jobs", index)
        v.section(path, _JOB_KEYS)
        job_id = v.string((*path, "id"), pattern=JOB_ID_RE, hint="letters, digits, '-', '_' or '.'")
        if job_id in seen:
            raise v.fail((*path, "id"), f"duplicate job id {job_id!r}")
        seen.add(job_id)
        schedule = v.string((*path, "schedule"))
        problem = schedule_problem(schedule)
        if problem:
            raise v.fail((*path, "schedule"), problem)
        kind = v.string((*path, "type"), choices=("task", "bash")) if "type" in entry else "task"
        timezone = v.string((*path, "timezone")) if "timezone" in entry else "UTC"
        if timezone_problem(timezone):
            raise v.fail((*path, "timezone"), timezone_problem(timezone) or "")
        job = JobConfig(
            id=job_id,
            schedule=schedule,
            type=kind,
            title=v.string((*path, "title")) if "title" in entry else job_id,
            body=v.string((*path, "body")) if entry.get("body") is not None else "",
            labels=v.strings((*path, "labels")) if "labels" in entry else (),
            agent=v.string((*path, "agent"), optional=True) if "agent" in entry else None,
            command=v.string((*path, "command"), optional=True) if "command" in entry else None,
            timeout_seconds=v.number((*path, "timeout_seconds"), minimum=1)
            if "timeout_seconds" in entry
            else 600,
            enabled=v.boolean((*path, "enabled")) if "enabled" in entry else True,
            timezone=timezone,
            created_at=str(entry["created_at"]) if entry.get("created_at") is not None else None,
            internal=v.boolean((*path, "internal")) if "internal" in entry else False,
        )
        if job.internal and job.type != "task":
            raise v.fail((*path, "internal"), "only a task job makes tasks; remove internal")
        if job.type == "bash" and not job.command:
            raise v.fail((*path, "command"), "a bash job needs a command")
        jobs.append(job)
    return tuple(jobs)


_SCHEDULE_ALIASES = (
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
)


def schedule_problem(schedule: str) -> str | None:
    """Why a schedule is not a 5-field cron line or an @alias, or None when it is fine."""
    text = schedule.strip()
    if text.startswith("@"):
        if text in _SCHEDULE_ALIASES:
            return None
        return (
            f"unknown schedule {text!r}; use 5-field cron or one of {', '.join(_SCHEDULE_ALIASES)}"
        )
    fields = text.split()
    if len(fields) != 5:
        return (
            f"{text!r} has {len(fields)} fields; a schedule is 5-field cron "
            "(minute hour day-of-month month day-of-week), e.g. '*/5 * * * *', or @hourly/@daily"
        )
    for value, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True):
        bad = _out_of_range(value, low, high)
        if bad is not None:
            return f"invalid cron line {text!r}: {name} must be {low}-{high} (got {bad})"

    try:
        croniter(text)
    except (ValueError, KeyError) as exc:
        return f"invalid cron line {text!r}: {exc}"
    return None


_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def _out_of_range(field_text: str, low: int, high: int) -> str | None:
    """The first number of a cron field outside low..high (steps after `/` excepted)."""
    for part in field_text.split(","):
        for number in part.split("/", 1)[0].split("-"):
            if number.isdigit() and not low <= int(number) <= high:
                return number
    return None


def timezone_problem(name: str) -> str | None:

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name!r}; use an IANA name such as UTC or Europe/Berlin"
    return None
