"""Config loading: merge rules, defaults, validation errors naming file, key and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from orch.config.model import deep_merge, load_config, schedule_problem
from orch.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "home" / "config.yml", tmp_path / "proj"


def test_defaults_without_files(files: tuple[Path, Path]) -> None:
    global_file, root = files
    config = load_config(global_file, root)
    assert config.store == "github"
    assert config.workflow.max_parallel == 4
    assert config.workflow.timeout_for("complex") == 3600
    assert config.workflow.timeout_for(None) == 1800
    assert config.model_for("complex", "codex") == "gpt-5.3-codex"
    assert config.model_for("simple", "opencode") is None  # empty = the CLI's default
    assert sorted(config.agents) == ["claude", "codex", "opencode"]
    assert config.agents["codex"].sandbox == "workspace-write"
    assert config.warnings == ()


def test_project_over_global_mappings_merge_lists_replace(files: tuple[Path, Path]) -> None:
    global_file, root = files
    write(
        global_file,
        "workflow:\n  max_parallel: 2\n  allowed_users: [alice, bob]\n"
        "gh: {backoff: {mode: skip}}\n",
    )
    write(
        root / ".orch.yml",
        "workflow:\n  allowed_users: [carol]\n  auto_close: false\n"
        "agents:\n  kimi: {command: kimi, like: claude}\n",
    )
    config = load_config(global_file, root)
    assert config.workflow.max_parallel == 2  # from global
    assert config.workflow.allowed_users == ("carol",)  # list replaced by project
    assert config.workflow.auto_close is False
    assert config.gh.backoff.mode == "skip"
    assert config.gh.backoff.max_seconds == 900  # default kept by deep merge
    assert config.agents["kimi"].family == "claude"
    assert "claude" in config.agents  # defaults kept beside the user's agent


def test_deep_merge_does_not_mutate_inputs() -> None:
    base = {"a": {"b": 1, "c": [1]}}
    over = {"a": {"c": [2]}}
    merged = deep_merge(base, over)
    assert merged == {"a": {"b": 1, "c": [2]}}
    assert base == {"a": {"b": 1, "c": [1]}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "workflow:\n  max_parallel: lots\n",
            "workflow.max_parallel: must be a whole number >= 1 (got a string)",
        ),
        ("workflow:\n  max_parallel: 0\n", "workflow.max_parallel: must be >= 1 (got 0)"),
        (
            "workflow:\n  intake: everyone\n",
            "workflow.intake: must be one of labeled, authored (got 'everyone')",
        ),
        ("store: s3\n", "store: must be one of github, local (got 's3')"),
        ("gh:\n  repo: not-a-repo\n", "gh.repo: must be OWNER/REPO (got 'not-a-repo')"),
        (
            "workflow:\n  auto_close: maybe\n",
            "workflow.auto_close: must be true or false (got a string)",
        ),
        (
            "router:\n  mode: magic\n",
            "router.mode: must be one of llm, round_robin, fixed (got 'magic')",
        ),
        (
            "router:\n  agent: nobody\n",
            "router.agent: unknown agent 'nobody'; configured: claude, codex, opencode",
        ),
        ("jobs:\n  - {id: j1, schedule: '61 * * * *'}\n", "jobs.0.schedule: invalid cron line"),
        ("jobs:\n  - {id: j1, schedule: '* * *'}\n", "jobs.0.schedule: '* * *' has 3 fields"),
        (
            "jobs:\n  - {id: j1, schedule: '@daily', timezone: Mars/Base}\n",
            "jobs.0.timezone: unknown time zone 'Mars/Base'",
        ),
        (
            "jobs:\n  - {id: j1, schedule: '@daily', type: bash}\n",
            "jobs.0.command: a bash job needs a command",
        ),
        ("workflow: [1, 2]\n", "workflow: must be a mapping (got a list)"),
    ],
)
def test_invalid_values_name_file_key_and_valid_values(
    files: tuple[Path, Path], text: str, message: str
) -> None:
    global_file, root = files
    project_file = write(root / ".orch.yml", text)
    with pytest.raises(ConfigError) as info:
        load_config(global_file, root)
    assert str(info.value).startswith(f"{project_file}: ")
    assert message in str(info.value)
    assert info.value.exit_code == 2


def test_error_names_the_global_file_when_the_value_comes_from_there(
    files: tuple[Path, Path],
) -> None:
    global_file, root = files
    write(global_file, "workflow:\n  timeout_seconds: -5\n")
    with pytest.raises(
        ConfigError, match=rf"^{global_file}: workflow.timeout_seconds: must be >= 1"
    ):
        load_config(global_file, root)


def test_broken_yaml_names_file_and_line(files: tuple[Path, Path]) -> None:
    global_file, root = files
    write(root / ".orch.yml", "workflow:\n  max_parallel: [1\n  other: 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(global_file, root)
    text = str(info.value)
    assert text.startswith(f"{root / '.orch.yml'}: line ")
    assert "invalid YAML" in text


def test_top_level_must_be_a_mapping(files: tuple[Path, Path]) -> None:
    global_file, root = files
    write(root / ".orch.yml", "- just\n- a list\n")
    with pytest.raises(ConfigError, match="the top level must be a mapping"):
        load_config(global_file, root)


def test_unknown_keys_are_warnings(files: tuple[Path, Path]) -> None:
    global_file, root = files
    write(root / ".orch.yml", "workflow:\n  max_paralel: 3\nfoo: 1\n")
    config = load_config(global_file, root)
    assert any("unknown key 'workflow.max_paralel'" in w for w in config.warnings)
    assert any("unknown key 'foo'" in w for w in config.warnings)


def test_projects_key_belongs_in_the_global_file(files: tuple[Path, Path]) -> None:
    global_file, root = files
    write(root / ".orch.yml", "projects: [/x]\n")
    with pytest.raises(ConfigError, match="'projects' belongs in the global config"):
        load_config(global_file, root)


def test_custom_command_agent(files: tuple[Path, Path]) -> None:
    global_file, root = files
    write(
        root / ".orch.yml",
        "agents:\n  mytool: {command: [my-agent, --json], input: arg, output: json}\n"
        "  opencode: null\n",
    )
    config = load_config(global_file, root)
    agent = config.agents["mytool"]
    assert (agent.family, agent.command, agent.input, agent.output) == (
        "command",
        ("my-agent", "--json"),
        "arg",
        "json",
    )
    assert "opencode" not in config.agents


def test_config_is_immutable(files: tuple[Path, Path]) -> None:
    global_file, root = files
    config = load_config(global_file, root)
    with pytest.raises(AttributeError):
        config.store = "local"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.agents["x"] = config.agents["claude"]  # type: ignore[index]


def test_get_dotted_keys(files: tuple[Path, Path]) -> None:
    global_file, root = files
    config = load_config(global_file, root)
    assert config.get("workflow.max_parallel") == 4
    assert config.get("model_map.complex.codex") == "gpt-5.3-codex"
    with pytest.raises(KeyError):
        config.get("workflow.nope")


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ("*/5 * * * *", True),
        ("@daily", True),
        ("@hourly", True),
        ("0 9 * * 1-5", True),
        ("@sometimes", False),
        ("* * * * * *", False),
        ("60 * * * *", False),
    ],
)
def test_schedule_validation(schedule: str, ok: bool) -> None:
    assert (schedule_problem(schedule) is None) is ok


@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("", "haiku"),  # claude routes with its simple model
        ("router: {agent: codex}\n", "gpt-5.1-codex-mini"),  # never claude's haiku
        ("router: {agent: opencode}\n", None),  # no simple model: the CLI's default
        ("router: {agent: codex}\nmodel_map: {route: {codex: gpt-5.2}}\n", "gpt-5.2"),
        ("router: {agent: codex, model: o-custom}\n", "o-custom"),  # explicit wins
        ("router: {agent: codex}\nmodel_map: {simple: {codex: tiny}}\n", "tiny"),
    ],
)
def test_router_model_defaults_per_router_agent(
    files: tuple[Path, Path], text: str, model: str | None
) -> None:
    global_file, root = files
    write(root / ".orch.yml", text)
    config = load_config(global_file, root)
    assert config.router.model == model
    assert config.get("router.model") == model  # `orch config get` shows what is used
