#!/usr/bin/env python3
"""Count the GitHub requests orch makes, against the local GitHub emulator.

Starts the emulator (HTTPS on 127.0.0.1, real `gh`), makes a throw-away git repository
configured for it, runs real `orch` commands in subprocesses and prints, per command, how
many requests reached "GitHub" and how long the command took. Then measures each
GitHubStore operation on its own, and the snapshot (the tick's read) for 1, 100 and 250
open tasks. Targets (SPEC §9): a quiet tick costs 1 request per project (plus a page per
100 open tasks); new → in_review with a PR ≤ 15 requests.

Usage: python bench/requests.py [--json] [-v]   (-v lists every request under its row)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from orch.clock import SystemClock  # noqa: E402
from orch.config.model import BackoffConfig  # noqa: E402
from orch.io.gh import Gh  # noqa: E402
from orch.labels import base_labels  # noqa: E402
from orch.paths import Paths  # noqa: E402
from orch.store.github import GitHubStore  # noqa: E402
from tests.emulator.fixtures import emulator_env, write_orch_config  # noqa: E402
from tests.emulator.server import DEFAULT_REPO, Emulator, EmulatorServer  # noqa: E402
from tests.helpers import GIT_IDENTITY, make_repo  # noqa: E402

Row = dict[str, Any]


def base_env(home: Path) -> dict[str, str]:
    scrub = (
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GH_HOST",
        "GH_REPO",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
    )
    env = {k: v for k, v in os.environ.items() if k not in scrub}
    env.update(GIT_IDENTITY)
    env["ORCH_HOME"] = str(home)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    return env


def run_cli(emulator: Emulator, env: dict[str, str], cwd: Path, *args: str) -> Row:
    emulator.reset_log()
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "orch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return {
        "what": "orch " + " ".join(args),
        "requests": len(emulator.requests),
        "seconds": round(time.monotonic() - started, 2),
        "exit": done.returncode,
        "calls": emulator.log_lines(),
        "error": done.stderr.strip().splitlines()[-1] if done.returncode else "",
    }


def measure(emulator: Emulator, what: str, action: Callable[[], object]) -> Row:
    emulator.reset_log()
    started = time.monotonic()
    error = ""
    try:
        action()
    except Exception as exc:  # a bench reports, it does not stop
        error = f"{type(exc).__name__}: {exc}"
    return {
        "what": what,
        "requests": len(emulator.requests),
        "seconds": round(time.monotonic() - started, 2),
        "exit": 1 if error else 0,
        "calls": emulator.log_lines(),
        "error": error,
    }


def cli_rows(emulator: Emulator, env: dict[str, str], work: Path) -> list[Row]:
    rows = [run_cli(emulator, env, work, "init")]
    rows.append(run_cli(emulator, env, work, "task", "add", "Bench task", "--body", "Do it."))
    number = "1"
    for issue in emulator.issues():
        if issue["title"] == "Bench task":
            number = str(issue["number"])
    rows.append(run_cli(emulator, env, work, "task", "list"))
    rows.append(run_cli(emulator, env, work, "task", "get", number))
    rows.append(run_cli(emulator, env, work, "task", "assign", number, "codex"))
    rows.append(run_cli(emulator, env, work, "task", "close", number))
    # A quiet tick: tasks that need no agent (in_review/blocked), ticked twice.
    for n in range(3):
        emulator.add_issue(f"waiting {n}", labels=["status:blocked"])
    run_cli(emulator, env, work, "tick")
    rows.append(run_cli(emulator, env, work, "tick"))
    rows[-1]["what"] += " (quiet, 3 open tasks, second run)"
    return rows


def store_rows(emulator: Emulator, env: dict[str, str], state: Path) -> list[Row]:
    emulator.reset()
    gh = Gh(emulator.host, BackoffConfig("wait", 1, 10), Paths(state, state), SystemClock(), env)
    store = GitHubStore(gh, DEFAULT_REPO)
    rows = [
        measure(emulator, "ensure_labels (fresh repo)", lambda: store.ensure_labels(base_labels()))
    ]
    rows.append(
        measure(emulator, "ensure_labels (all present)", lambda: store.ensure_labels(base_labels()))
    )
    issue = store.create_issue("t", "body", ["status:new"])
    comment = store.create_comment(issue.number, "hello")
    pr = store.create_pr("orch/0-bench", "main", "PR", "")
    ops: list[tuple[str, Callable[[], object]]] = [
        ("create_issue", lambda: store.create_issue("t2", "", ["status:new"])),
        ("get_issue", lambda: store.get_issue(issue.number)),
        ("list_issues", lambda: store.list_issues()),
        ("update_issue", lambda: store.update_issue(issue.number, title="t!")),
        ("set_labels", lambda: store.set_labels(issue.number, ["status:routed"])),
        ("list_comments", lambda: store.list_comments(issue.number)),
        ("create_comment", lambda: store.create_comment(issue.number, "again")),
        ("update_comment", lambda: store.update_comment(comment.id, "edited")),
        ("react", lambda: store.react(comment.id, "eyes")),
        ("create_pr", lambda: store.create_pr("orch/1-t", "main", "PR", "Closes #1")),
        ("find_pr", lambda: store.find_pr("orch/1-t")),
        ("merge_pr", lambda: store.merge_pr(pr.number)),
        ("permission", lambda: store.permission("owner")),
        ("default_branch", store.default_branch),
    ]
    rows += [measure(emulator, name, action) for name, action in ops]
    for total in (1, 100, 250):
        emulator.reset()
        for n in range(total):
            emulator.add_issue(f"task {n}", labels=["status:in_review"])
            emulator.add_comment(n + 1, "a comment")
        rows.append(measure(emulator, f"snapshot ({total} open tasks)", store.snapshot))
        known = {i.number: i.updated_at for i in store.snapshot().issues}
        rows.append(
            measure(
                emulator,
                f"snapshot ({total} open tasks, none changed)",
                lambda known=known: store.snapshot(known),
            )
        )  # type: ignore[misc]
    return rows


def main() -> int:
    as_json = "--json" in sys.argv[1:]
    verbose = "-v" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="orch-bench-") as tmp:
        base = Path(tmp)
        server = EmulatorServer(base / "tls").start()
        emulator = server.emulator
        try:
            (base / "ghconfig").mkdir()
            (base / "ghtmp").mkdir()
            dirs = {"GH_CONFIG_DIR": str(base / "ghconfig"), "TMPDIR": str(base / "ghtmp")}
            env = emulator_env(emulator, dirs, base_env(base / "orch-home"))
            repo = make_repo(base)
            write_orch_config(repo.work, emulator)
            emulator.set_origin(repo.origin)
            rows = cli_rows(emulator, env, repo.work)
            rows += store_rows(emulator, env, base / "state")
        finally:
            server.stop()
    if as_json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["what"]) for r in rows)
    print(f"{'operation':<{width}}  requests  seconds  exit")
    for row in rows:
        print(
            f"{row['what']:<{width}}  {row['requests']:>8}  {row['seconds']:>7.2f}  "
            f"{row['exit']:>4}{'  ' + row['error'] if row['error'] else ''}"
        )
        if verbose:
            for call in row["calls"]:
                print(f"    {call}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
