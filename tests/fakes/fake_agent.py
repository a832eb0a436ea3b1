#!/usr/bin/env python3
"""A strict stand-in for the claude, codex and opencode CLIs (see README.md here).

Started through the wrappers `install_fake_agents()` writes; the wrapper sets
ORCH_FAKE_NAME (which CLI this is) and ORCH_FAKE_BIN (its directory). Behaviour comes
from the scenario file named by ORCH_FAKE_SCENARIO, else <bin dir>/scenario.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

VERSIONS = {
    "claude": "2.1.197 (Claude Code)",
    "codex": "codex-cli 0.169.0",
    "opencode": "1.18.33",
}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "agents"
STRICT_EXIT = 97


def fail(message: str) -> None:
    sys.stderr.write(f"fake {NAME}: {message}\n")
    sys.stderr.flush()
    sys.exit(STRICT_EXIT)


def scenario_path() -> Path:
    named = os.environ.get("ORCH_FAKE_SCENARIO")
    if named:
        return Path(named)
    return Path(os.environ.get("ORCH_FAKE_BIN", Path(sys.argv[0]).parent)) / "scenario.json"


def next_call(path: Path) -> tuple[dict[str, Any], int]:
    """This CLI's entry for this call (a list is consumed one entry per call; the last
    entry repeats) and the call's index."""
    try:
        scenario = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read scenario {path}: {exc}")
    entry = scenario.get(NAME)
    if entry is None:
        fail(f"scenario {path} has nothing for {NAME!r}; called with {ARGV!r}")
    counter = path.with_name(f"{path.name}.{NAME}.count")
    import fcntl

    with open(counter, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read().strip()
        index = int(text) if text else 0
        handle.seek(0)
        handle.truncate()
        handle.write(str(index + 1))
    if isinstance(entry, list):
        if not entry:
            fail("empty call list in scenario")
        return entry[min(index, len(entry) - 1)], index
    return entry, index


def contains(argv: list[str], wanted: str | list[str]) -> bool:
    if isinstance(wanted, str):
        return wanted in argv
    n = len(wanted)
    return any(argv[i : i + n] == wanted for i in range(len(argv) - n + 1))


def realism() -> None:
    """What the real CLIs refuse (reference/clients.md), refused the same way."""
    if NAME == "claude":
        if "-p" not in ARGV and "--print" not in ARGV:
            fail(f"expected print mode (-p); got {ARGV!r}")
        if "stream-json" in ARGV and "--verbose" not in ARGV:
            sys.stderr.write(
                "Error: When using --print, --output-format=stream-json requires --verbose\n"
            )
            sys.exit(1)
        if (
            "bypassPermissions" in ARGV
            and os.geteuid() == 0
            and os.environ.get("IS_SANDBOX") != "1"
        ):
            sys.stderr.write(
                "--dangerously-skip-permissions cannot be used with root/sudo privileges "
                "for security reasons\n"
            )
            sys.exit(1)
    elif NAME == "codex":
        if "--full-auto" in ARGV:
            sys.stderr.write("error: unexpected argument '--full-auto' found\n")
            sys.exit(2)
        if not ARGV or ARGV[0] != "exec":
            fail(f"expected `codex exec …`; got {ARGV!r}")
        sys.stderr.write("Reading additional input from stdin...\n")
    elif NAME == "opencode" and (not ARGV or ARGV[0] != "run"):
        fail(f"expected `opencode run …`; got {ARGV!r}")


def resolve_fixture(name: str, base: Path) -> Path:
    for candidate in (base / name, FIXTURES / name):  # an absolute name wins in `/`
        if candidate.exists():
            return candidate
    fail(f"fixture {name} not found (looked beside the scenario and in {FIXTURES})")
    raise AssertionError


def after_flag(flag: str) -> str:
    if flag not in ARGV or ARGV.index(flag) + 1 >= len(ARGV):
        fail(f"expected {flag} FILE in {ARGV!r}")
    return ARGV[ARGV.index(flag) + 1]


def enter_workdir() -> None:
    """Work where the real opencode works: `--dir`, else `$PWD`, not the OS cwd. A caller
    that leaves the user's PWD in place sends the agent into the user's checkout."""
    target = ARGV[ARGV.index("--dir") + 1] if NAME == "opencode" and "--dir" in ARGV[:-1] else None
    target = target or os.environ.get("PWD")
    if target and os.path.isdir(target):
        os.chdir(target)


def main() -> None:
    if ARGV in (["--version"], ["-v"], ["-V"]):
        print(VERSIONS.get(NAME, "0.0.0"))
        return
    enter_workdir()
    stdin = "" if sys.stdin.isatty() else sys.stdin.read()
    path = scenario_path()
    call, index = next_call(path)
    base = path.parent
    if call.get("record"):
        record = Path(str(call["record"]).replace("{n}", str(index)))
        record = record if record.is_absolute() else base / record
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(
            json.dumps(
                {
                    "argv": ARGV,
                    "env": dict(os.environ),
                    "stdin": stdin,
                    "cwd": os.getcwd(),
                    "call": index,
                },
                indent=2,
                sort_keys=True,
            )
        )
    prefix = call.get("expect_argv_prefix")
    if prefix is not None and ARGV[: len(prefix)] != prefix:
        fail(f"argv does not start with {prefix!r}: {ARGV!r}")
    for wanted in call.get("expect_argv_contains") or []:
        if not contains(ARGV, wanted):
            fail(f"argv lacks {wanted!r}: {ARGV!r}")
    for unwanted in call.get("expect_argv_lacks") or []:
        if contains(ARGV, unwanted):
            fail(f"argv must not contain {unwanted!r}: {ARGV!r}")
    for wanted in call.get("expect_stdin_contains") or []:
        if wanted not in stdin:
            fail(f"stdin lacks {wanted!r}")
    realism()
    for step in call.get("steps") or []:
        run_step(step, base)


def run_step(step: dict[str, Any], base: Path) -> None:
    if "write" in step:
        target = Path(step["write"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.get("text", ""))
    elif "append" in step:
        with open(step["append"], "a") as handle:
            handle.write(step.get("text", ""))
    elif "write_after_flag" in step:
        Path(after_flag(step["write_after_flag"])).write_text(step.get("text", ""))
    elif "run" in step:
        done = subprocess.run(step["run"], shell=True, check=False)
        if step.get("check") and done.returncode != 0:
            sys.exit(done.returncode)
    elif "sleep" in step:
        time.sleep(float(step["sleep"]))
    elif "stdout" in step:
        sys.stdout.write(step["stdout"])
        sys.stdout.flush()
    elif "stderr" in step:
        sys.stderr.write(step["stderr"])
        sys.stderr.flush()
    elif "stdout_file" in step:
        sys.stdout.write(resolve_fixture(step["stdout_file"], base).read_text())
        sys.stdout.flush()
    elif "stderr_file" in step:
        sys.stderr.write(resolve_fixture(step["stderr_file"], base).read_text())
        sys.stderr.flush()
    elif step.get("hang"):
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    elif "exit" in step:
        sys.stdout.flush()
        sys.exit(int(step["exit"]))
    else:
        fail(f"unknown step {step!r}")


NAME = os.environ.get("ORCH_FAKE_NAME") or Path(sys.argv[0]).name
ARGV = sys.argv[1:]

if __name__ == "__main__":
    main()
