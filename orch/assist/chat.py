"""`orch chat`: a control session that answers questions about the tasks and proposes
orch commands. Nothing here prints, prompts or exits.

The chat agent (the sticky `/agent` and `/model` choice kept in `<state>/chat/state.json`;
default the router's agent and model) gets `prompts/chat.md` with a compact context
(`context()`: open tasks with number, title, status and agent; running sessions on this
host; recent errors; cooldowns; today's cost) and the owner's message, through
orch.agents.ask (read-only, route mode). Its answer is free text; a proposed command is a line
`RUN: orch …` (`proposed_commands()`), which orch runs only after the owner confirms.
Every exchange is appended to `<state>/chat/history.jsonl`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orch.agents import ask
from orch.agents.cooldown import Cooldowns, remaining
from orch.agents.prompt import render_template, template_text, untrusted_block
from orch.clock import Clock, format_duration, utc_iso
from orch.config.model import Config
from orch.errors import OrchError, UsageError
from orch.io import proc
from orch.io.logview import tail
from orch.io.redact import redact
from orch.io.sidecar import read_versioned, write_text_atomic, write_versioned
from orch.labels import statuses_in
from orch.paths import Paths
from orch.run.spawn import orch_argv
from orch.run.view import live
from orch.store.base import Store
from orch.task import budget
from orch.task.history import Task

TEMPLATE = "chat.md"
STATE_VERSION = 1
RUN_PREFIX = re.compile(r"^\s*(?:[-*]\s*)?`?RUN:\s*`?(?P<command>.+?)`?\s*$")
HISTORY_TURNS = 6  # earlier exchanges the REPL passes back to the agent
ERROR_LINES = 5
TASKS_CAP = 12000  # characters of the open-task list (a big backlog is cut)
COMMAND_TIMEOUT = 600
# What the chat agent may propose (the owner still confirms each command).
RUNNABLE = frozenset(
    {"task", "tick", "job", "cooldown", "notify", "stats", "agents", "doctor", "log", "config"}
)


# --- the sticky agent:model choice -----------------------------------------------------


def _state_file(paths: Paths) -> Path:
    return paths.state_dir / "chat" / "state.json"


def history_file(paths: Paths) -> Path:
    return paths.state_dir / "chat" / "history.jsonl"


def default_model(config: Config, agent: str) -> str | None:
    """The router's model for the router agent; the CLI's own default for any other."""
    if agent == config.router.agent:
        return config.router.model or config.model_map.get("route", {}).get(agent) or None
    return None


def choice(paths: Paths, config: Config) -> tuple[str, str | None]:
    """The chat agent and model: the sticky choice when its agent is still configured,
    else the router's."""
    saved = read_versioned(_state_file(paths), STATE_VERSION) or {}
    agent = saved.get("agent")
    if isinstance(agent, str) and agent in config.agents:
        model = saved.get("model")
        return agent, model if isinstance(model, str) and model else None
    return config.router.agent, default_model(config, config.router.agent)


def choose_agent(paths: Paths, config: Config, agent: str) -> tuple[str, str | None]:
    """`/agent NAME`: that agent with its default model, kept for the next sessions."""
    if agent not in config.agents:
        raise UsageError(f"unknown agent {agent!r}; configured: {', '.join(config.agents)}")
    return _save(paths, agent, default_model(config, agent))


def choose_model(paths: Paths, config: Config, spec: str) -> tuple[str, str | None]:
    """`/model MODEL` or `/model AGENT:MODEL`: an explicit agent, else the agent the model
    map names for that model, else the current agent."""
    spec = spec.strip()
    if not spec:
        raise UsageError("/model needs a model name, e.g. /model sonnet or /model codex:gpt-5.2")
    head, sep, tail_ = spec.partition(":")
    if sep and head in config.agents:
        return _save(paths, head, tail_ or None)
    for tier in config.model_map.values():
        for agent, model in tier.items():
            if model == spec and agent in config.agents:
                return _save(paths, agent, spec)
    return _save(paths, choice(paths, config)[0], spec)


def _save(paths: Paths, agent: str, model: str | None) -> tuple[str, str | None]:
    write_versioned(_state_file(paths), STATE_VERSION, {"agent": agent, "model": model})
    return agent, model


# --- context ---------------------------------------------------------------------------


def context(paths: Paths, clock: Clock, repo: str, store: Store) -> str:
    """What the chat agent knows: open tasks, running sessions, recent errors, cooldowns,
    today's cost (one open-issues read)."""
    tasks = [Task.from_issue(i) for i in store.list_issues(state="open") if statuses_in(i.labels)]
    rows = [
        f"#{t.number} [{t.status.value if t.status else 'needs repair'}] agent: {t.agent or '-'}"
        f" — {' '.join(t.title.split())}"
        for t in tasks
    ]
    lines = [
        f"Project {repo}. Open tasks ({len(tasks)}):",
        untrusted_block("open tasks", "\n".join(rows), cap=TASKS_CAP) or "(none)",
    ]
    running = live(paths, clock)
    lines.append(f"\nRunning sessions on this host ({len(running)}):")
    lines += [
        f"- {r.repo}#{r.number}: {r.agent or '?'}/{r.model or 'default'}, attempt {r.attempt}, "
        f"{format_duration(r.elapsed_s or 0)} so far"
        for r in running
    ] or ["- none"]
    lines += [
        "\nRecent errors:",
        untrusted_block("orch log", "\n".join(recent_errors(paths))) or "(none)",
    ]
    now = clock.now()
    cooldowns = Cooldowns(paths, clock).active()
    lines.append("\nCooldowns:")
    lines += [
        f"- {c.key}: {c.error_class}, {remaining(c, now)} left ({c.reason[:120]})"
        for c in cooldowns
    ] or ["- none"]
    lines.append(f"\nCost today (UTC, this host): {budget.money(budget.spent_on(paths, now))}")
    return "\n".join(lines)


def recent_errors(paths: Paths) -> list[str]:
    """The last error lines of the orch log, redacted (none without a log)."""
    try:
        lines = tail(paths, None, 400)
    except OrchError:  # no log yet
        return []
    errors = [redact(line)[:300] for line in lines if re.search(r"\berror\b|\bERROR\b", line)]
    return errors[-ERROR_LINES:]


# --- one exchange ----------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    at: str
    repo: str
    agent: str
    model: str | None
    message: str
    answer: str
    commands: tuple[str, ...]
    ran: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "repo": self.repo,
            "agent": self.agent,
            "model": self.model,
            "message": self.message,
            "answer": self.answer,
            "commands": list(self.commands),
            "ran": list(self.ran),
        }


def proposed_commands(answer: str) -> list[str]:
    """The `RUN: orch …` lines of an answer (pure). Only the command groups in
    `RUNNABLE` are kept: never a global option (`--config` would swap the agents a
    confirmed command runs), nor chat itself, commit, prune, init, service or project
    (they write outside the task tracker)."""
    found: list[str] = []
    for line in answer.splitlines():
        match = RUN_PREFIX.match(line)
        if not match:
            continue
        command = match.group("command").strip()
        try:
            argv = shlex.split(command)
        except ValueError:
            continue
        if len(argv) >= 2 and argv[0] == "orch" and argv[1] in RUNNABLE:
            found.append(command)
    return list(dict.fromkeys(found))


def answer_text_only(answer: str) -> str:
    """The answer without its `RUN:` lines (pure)."""
    return "\n".join(line for line in answer.splitlines() if not RUN_PREFIX.match(line)).strip()


def chat_prompt(config: Config, context_text: str, message: str, history: list[Exchange]) -> str:
    turns = [f"Owner: {e.message}\nYou: {e.answer}" for e in history[-HISTORY_TURNS:]]
    values = {"context": context_text, "message": message, "history": "\n\n".join(turns)}
    return render_template(template_text(TEMPLATE, config.workflow.prompts_dir), values)


def ask_chat(
    paths: Paths,
    clock: Clock,
    config: Config,
    repo: str,
    store: Store,
    message: str,
    *,
    history: list[Exchange] | None = None,
    env: Mapping[str, str] | None = None,
) -> Exchange:
    """One answer from the chat agent (recorded in the history)."""
    if not message.strip():
        raise UsageError('say something: orch chat "what is running?"')
    agent, model = choice(paths, config)
    prompt = chat_prompt(config, context(paths, clock, repo, store), message, history or [])
    work = paths.state_dir / "chat" / "calls" / clock.now().strftime("%Y%m%dT%H%M%S%f")
    answer = ask.answer_text(
        paths,
        clock,
        config,
        agent=agent,
        model=model,
        prompt=prompt,
        work_dir=work,
        timeout=config.router.timeout_seconds,
        why="chat",
        env=env,
    )
    exchange = Exchange(
        utc_iso(clock.now()), repo, agent, model, message, answer, tuple(proposed_commands(answer))
    )
    record(paths, exchange)
    return exchange


def record(paths: Paths, exchange: Exchange) -> None:
    path = history_file(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(exchange.to_json(), ensure_ascii=False, sort_keys=True) + "\n")


def history(paths: Paths, search: str | None = None, limit: int = 20) -> list[Exchange]:
    """The last `limit` exchanges (with `search`: those whose message or answer holds it)."""
    try:
        raw = history_file(paths).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found: list[Exchange] = []
    for line in raw:
        try:
            data = json.loads(line)
            exchange = Exchange(
                str(data["at"]),
                str(data.get("repo", "")),
                str(data["agent"]),
                data.get("model"),
                str(data["message"]),
                str(data["answer"]),
                tuple(data.get("commands") or ()),
                tuple(data.get("ran") or ()),
            )
        except (ValueError, KeyError, TypeError):
            continue
        needle = (search or "").lower()
        if not needle or needle in exchange.message.lower() or needle in exchange.answer.lower():
            found.append(exchange)
    return found[-limit:]


def run_command(
    command: str, root: Path, config_file: Path | None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run one confirmed `orch …` command on the same project; what it printed and its exit."""
    argv = shlex.split(command)[1:]
    done = proc.run(
        [*orch_argv(root, config_file), *argv],
        cwd=root,
        env=dict(env if env is not None else os.environ),
        timeout=COMMAND_TIMEOUT,
    )
    return {
        "command": command,
        "exit_code": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


def record_ran(paths: Paths, exchange: Exchange, ran: list[dict[str, Any]]) -> Exchange:
    """The exchange with what was run appended to the history (one more line)."""
    updated = Exchange(
        exchange.at,
        exchange.repo,
        exchange.agent,
        exchange.model,
        exchange.message,
        exchange.answer,
        exchange.commands,
        tuple({"command": r["command"], "exit_code": r["exit_code"]} for r in ran),
    )
    _rewrite_last(paths, exchange, updated)
    return updated


def _rewrite_last(paths: Paths, old: Exchange, new: Exchange) -> None:
    path = history_file(paths)
    lines = path.read_text(encoding="utf-8").splitlines()
    mine = json.dumps(old.to_json(), ensure_ascii=False, sort_keys=True)
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] == mine:
            lines[index] = json.dumps(new.to_json(), ensure_ascii=False, sort_keys=True)
            break
    write_text_atomic(path, "\n".join(lines) + "\n")
