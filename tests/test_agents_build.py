"""Golden invocations: argv, env, stdin, cwd and files for every agent family × mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orch.agents import BuildRequest, adapter_for, agent_env
from orch.agents.result import RESULT_SCHEMA, ROUTE_SCHEMA, schema_text
from orch.config.model import Config, load_config

WT = Path("/srv/state/worktrees/acme/widgets/7-fix-it")
WORK = Path("/srv/state/repos/acme/widgets/tasks/7/attempts/1")
MAIN_GIT = Path("/home/u/widgets/.git")
BASE_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "GH_TOKEN": "ghp_secret1",
    "GITHUB_TOKEN": "ghs_secret2",
    "GH_ENTERPRISE_TOKEN": "secret3",
    "GITHUB_ENTERPRISE_TOKEN": "secret4",
    "GITHUB_PAT_FOR_CI": "secret5",
    "ANTHROPIC_API_KEY": "sk-ant-keep",
    "ORCH_TASK": "7",
}
SANDBOX_DENY = [
    "Edit(//home/u/widgets/**)",
    "Write(//home/u/widgets/**)",
    "NotebookEdit(//home/u/widgets/**)",
    "Bash(cd /home/u/widgets:*)",
    "Bash(git -C /home/u/widgets:*)",
]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("proj")
    (root / ".orch.yml").write_text(
        "agents:\n"
        "  kimi: {command: kimi, like: claude}\n"
        "  minimax: {command: [minimax-cli, --quiet]}\n"
        "  mytool: {command: [my-agent, --json], input: stdin, output: json}\n"
        "  argtool: {command: my-agent, input: arg, env: {MY_FLAG: '1'}}\n"
    )
    return load_config(None, root)


def build(config: Config, name: str, mode: str, *, euid: int = 1000, **kw: object):  # type: ignore[no-untyped-def]
    adapter = adapter_for(config.agents[name], config, euid=euid)
    args = {
        "prompt": "Task #7: fix it",
        "system_prompt": "You are a careful engineer.",
        "model": "sonnet",
        "cwd": WT,
        "work_dir": WORK,
        "main_git_dir": MAIN_GIT,
        "schema": ROUTE_SCHEMA if mode == "route" else RESULT_SCHEMA,
        "env_base": BASE_ENV,
    }
    args.update(kw)
    return adapter.build(BuildRequest(mode=mode, **args))  # type: ignore[arg-type]


def test_claude_run(config: Config) -> None:
    inv = build(config, "claude", "run")
    assert list(inv.argv) == [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        "sonnet",
        "--append-system-prompt",
        "You are a careful engineer.",
        "--permission-mode",
        "bypassPermissions",
        "--json-schema",
        schema_text(RESULT_SCHEMA),
        "--disallowedTools",
        "Bash(rm -rf *)",
        *SANDBOX_DENY,
    ]
    assert inv.stdin == "Task #7: fix it"
    assert inv.cwd == WT
    assert inv.files == {}
    assert inv.output_file is None
    assert inv.env["CLAUDE_CODE_MAX_RETRIES"] == "2"
    assert inv.env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] == "1"
    assert "IS_SANDBOX" not in inv.env  # not root
    assert inv.env["ANTHROPIC_API_KEY"] == "sk-ant-keep"
    assert inv.env["ORCH_TASK"] == "7"


def test_claude_keeps_the_users_own_retry_setting(config: Config) -> None:
    inv = build(config, "claude", "run", env_base={**BASE_ENV, "CLAUDE_CODE_MAX_RETRIES": "5"})
    assert inv.env["CLAUDE_CODE_MAX_RETRIES"] == "5"


def test_claude_run_as_root_sets_is_sandbox(config: Config) -> None:
    assert build(config, "claude", "run", euid=0).env["IS_SANDBOX"] == "1"
    assert "IS_SANDBOX" not in build(config, "claude", "route", euid=0).env


def test_claude_route(config: Config) -> None:
    inv = build(config, "claude", "route", model="haiku")
    assert list(inv.argv) == [
        "claude",
        "-p",
        "--output-format",
        "json",
        "--model",
        "haiku",
        "--append-system-prompt",
        "You are a careful engineer.",
        "--json-schema",
        schema_text(ROUTE_SCHEMA),
        "--disallowedTools",
        "Bash(rm -rf *)",
        "Bash",
        "Edit",
        "Write",
        "NotebookEdit",
        "WebFetch",
        "WebSearch",
    ]
    assert inv.stdin == "Task #7: fix it"


def test_claude_review(config: Config) -> None:
    inv = build(config, "claude", "review", model=None)
    assert list(inv.argv) == [
        "claude",
        "-p",
        "--output-format",
        "json",
        "--append-system-prompt",
        "You are a careful engineer.",
        "--json-schema",
        schema_text(RESULT_SCHEMA),
        "--allowedTools",
        "Read",
        "Grep",
        "Glob",
        "Bash(git diff:*)",
        "Bash(git log:*)",
        "Bash(git show:*)",
        "--disallowedTools",
        "Bash(rm -rf *)",
        "Edit",
        "Write",
        "NotebookEdit",
        *SANDBOX_DENY,
    ]


def test_claude_like_agents_use_their_own_command(config: Config) -> None:
    kimi = build(config, "kimi", "run")
    assert kimi.argv[:5] == ("kimi", "-p", "--output-format", "stream-json", "--verbose")
    minimax = build(config, "minimax", "route")
    assert minimax.argv[:5] == ("minimax-cli", "--quiet", "-p", "--output-format", "json")


def test_claude_without_sandbox_or_main_dir(config: Config) -> None:
    inv = build(config, "claude", "run", main_git_dir=None, system_prompt="", schema=None)
    assert list(inv.argv) == [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--model",
        "sonnet",
        "--permission-mode",
        "bypassPermissions",
        "--disallowedTools",
        "Bash(rm -rf *)",
    ]


def test_codex_run(config: Config) -> None:
    inv = build(config, "codex", "run", model="gpt-5.3-codex")
    assert list(inv.argv) == [
        "codex",
        "exec",
        "--json",
        "-C",
        str(WT),
        "--sandbox",
        "workspace-write",
        "--skip-git-repo-check",
        "-m",
        "gpt-5.3-codex",
        "--output-schema",
        str(WORK / "codex-output-schema.json"),
        "-o",
        str(WORK / "codex-last-message.txt"),
        "--add-dir",
        str(MAIN_GIT),
        "--add-dir",
        str(MAIN_GIT / "worktrees" / "7-fix-it"),
        "-",
    ]
    assert "--full-auto" not in inv.argv
    assert inv.stdin == "You are a careful engineer.\n\n---\n\nTask #7: fix it"
    assert inv.output_file == WORK / "codex-last-message.txt"
    assert json.loads(inv.files[WORK / "codex-output-schema.json"]) == RESULT_SCHEMA


def test_codex_reads_the_worktree_gitdir_from_its_dot_git_file(
    tmp_path: Path, config: Config
) -> None:
    wt = tmp_path / "wt"
    wt.mkdir()
    (wt / ".git").write_text("gitdir: /home/u/widgets/.git/worktrees/wt3\n")
    inv = build(config, "codex", "run", cwd=wt)
    assert list(inv.argv[-5:]) == [
        "--add-dir",
        str(MAIN_GIT),
        "--add-dir",
        "/home/u/widgets/.git/worktrees/wt3",
        "-",
    ]


def test_codex_route(config: Config) -> None:
    inv = build(config, "codex", "route", model=None)
    assert list(inv.argv) == [
        "codex",
        "exec",
        "--json",
        "-C",
        str(WT),
        "--sandbox",
        "read-only",
        "--skip-git-repo-check",
        "--output-schema",
        str(WORK / "codex-output-schema.json"),
        "-o",
        str(WORK / "codex-last-message.txt"),
        "-",
    ]
    assert json.loads(inv.files[WORK / "codex-output-schema.json"]) == ROUTE_SCHEMA


def test_codex_review(config: Config) -> None:
    inv = build(config, "codex", "review", model="gpt-5.2")
    assert inv.argv[5:7] == ("--sandbox", "workspace-write")
    assert "--add-dir" not in inv.argv  # reviewers do not commit


def test_opencode_modes(config: Config) -> None:
    for mode, permission in (
        (
            "run",
            {"bash": "allow", "edit": "allow", "webfetch": "allow", "external_directory": "allow"},
        ),
        (
            "route",
            {"bash": "deny", "edit": "deny", "webfetch": "deny", "external_directory": "deny"},
        ),
        (
            "review",
            {"bash": "allow", "edit": "deny", "webfetch": "deny", "external_directory": "deny"},
        ),
    ):
        inv = build(config, "opencode", mode, model="fake/fake-model")
        assert list(inv.argv) == [
            "opencode",
            "run",
            "--format",
            "json",
            "--dir",
            str(WT),
            "--model",
            "fake/fake-model",
        ]
        assert "OPENCODE_CONFIG" not in inv.env  # the user's own config file keeps working
        assert inv.files == {}
        assert json.loads(inv.env["OPENCODE_CONFIG_CONTENT"]) == {
            "$schema": "https://opencode.ai/config.json",
            "permission": permission,
        }
        assert inv.stdin is not None
        assert inv.stdin.startswith("You are a careful engineer.\n\n---\n\nTask #7: fix it\n\n")
        assert "End your final message with one JSON object matching this schema" in inv.stdin


def test_opencode_user_permission_never_asks(tmp_path: Path) -> None:
    (tmp_path / ".orch.yml").write_text(
        "agents:\n  opencode: {permission: {bash: ask, webfetch: deny}}\n"
    )
    config = load_config(None, tmp_path)
    inv = build(config, "opencode", "run", model=None, schema=None)
    assert list(inv.argv) == ["opencode", "run", "--format", "json", "--dir", str(WT)]
    permission = json.loads(inv.env["OPENCODE_CONFIG_CONTENT"])["permission"]
    assert permission == {
        "bash": "allow",
        "edit": "allow",
        "webfetch": "deny",
        "external_directory": "allow",
    }


def test_command_agents(config: Config) -> None:
    inv = build(config, "mytool", "run")
    assert list(inv.argv) == ["my-agent", "--json"]
    assert inv.stdin == "You are a careful engineer.\n\n---\n\nTask #7: fix it"
    assert inv.env["ORCH_MODE"] == "run"
    assert inv.env["ORCH_MODEL"] == "sonnet"
    assert inv.env["ORCH_RESULT_SCHEMA"] == str(WORK / "result-schema.json")
    inv = build(config, "argtool", "route", model=None, schema=None)
    assert list(inv.argv) == ["my-agent", "You are a careful engineer.\n\n---\n\nTask #7: fix it"]
    assert inv.stdin is None
    assert inv.env["MY_FLAG"] == "1"
    assert "ORCH_MODEL" not in inv.env


@pytest.mark.parametrize("name", ["claude", "codex", "opencode", "kimi", "mytool", "argtool"])
@pytest.mark.parametrize("mode", ["run", "route", "review"])
def test_no_github_token_reaches_an_agent(config: Config, name: str, mode: str) -> None:
    inv = build(config, name, mode)
    leaked = {k for k in inv.env if "GH_" in k or "GITHUB" in k}
    assert leaked == set()
    assert not any(v.startswith(("ghp_", "ghs_", "secret")) for v in inv.env.values())
    assert inv.env["PATH"] == "/usr/bin"


def test_agent_env_strips_tokens_even_from_extra() -> None:
    env = agent_env({"GH_TOKEN": "x", "HOME": "/h"}, {"GITHUB_TOKEN": "y", "ORCH_REPO": "a/b"})
    assert env == {"HOME": "/h", "ORCH_REPO": "a/b"}


def test_unknown_mode_is_refused(config: Config) -> None:
    with pytest.raises(ValueError, match="unknown agent mode"):
        build(config, "claude", "plan")


def test_output_text_reads_the_answer_file_back(tmp_path: Path, config: Config) -> None:
    inv = build(config, "codex", "route", work_dir=tmp_path)
    assert inv.output_file == tmp_path / "codex-last-message.txt"
    assert inv.output_text() is None  # the CLI has not written it (yet)
    inv.output_file.write_bytes(b'{"agent": "codex"}\xff\n')
    assert inv.output_text() == '{"agent": "codex"}\ufffd\n'
    assert build(config, "claude", "route").output_text() is None  # claude answers on stdout


def test_codex_router_gets_its_own_simple_model(tmp_path: Path) -> None:
    """The router call (orch.agents.ask via router_agent.ask_router) passes config.router.model."""
    (tmp_path / ".orch.yml").write_text("router: {agent: codex}\n")
    codex_routes = load_config(None, tmp_path)
    assert codex_routes.router.model == "gpt-5.1-codex-mini"
    inv = build(codex_routes, "codex", "route", model=codex_routes.router.model)
    assert list(inv.argv[:2]) == ["codex", "exec"]
    assert inv.argv[inv.argv.index("-m") + 1] == "gpt-5.1-codex-mini"
    assert "haiku" not in inv.argv


@pytest.mark.parametrize("name", ["claude", "codex", "opencode", "kimi", "mytool", "argtool"])
@pytest.mark.parametrize("mode", ["run", "route", "review"])
def test_every_agent_starts_with_pwd_at_its_cwd(config: Config, name: str, mode: str) -> None:
    """opencode works where $PWD points, not in the OS cwd: the caller's PWD (the user's
    checkout) must never reach an agent."""
    inv = build(config, name, mode, env_base={**BASE_ENV, "PWD": "/home/u/widgets"})
    assert inv.cwd == WT
    assert inv.env["PWD"] == str(WT)


def test_opencode_keeps_the_users_config(config: Config) -> None:
    """The user's OPENCODE_CONFIG file stays in place (opencode merges the content var over
    it); a config the user already passes as content is kept, orch's permission wins."""
    user = {
        "provider": {"corp": {"options": {"baseURL": "http://llm.corp"}}},
        "permission": {"bash": "ask"},
    }
    inv = build(
        config,
        "opencode",
        "run",
        env_base={
            **BASE_ENV,
            "OPENCODE_CONFIG": "/home/u/opencode.json",
            "OPENCODE_CONFIG_CONTENT": json.dumps(user),
        },
    )
    assert inv.env["OPENCODE_CONFIG"] == "/home/u/opencode.json"
    content = json.loads(inv.env["OPENCODE_CONFIG_CONTENT"])
    assert content["provider"] == user["provider"]
    assert content["permission"]["bash"] == "allow"
