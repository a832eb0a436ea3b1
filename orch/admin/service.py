"""Running `orch tick` unattended: systemd user units, a launchd agent or a crontab line.

Rendering is pure (`render_service`, `render_timer`, `render_plist`, `render_cron_line`):
this module is the one source of truth for the unit texts; the files in the repository's
`systemd/` and `launchd/` folders are these renderings for an example user, and a test
keeps them identical. The wrapper `bin/orch-tick` ships in the package (`orch.bin`).

Install writes, for the current user: the wrapper to `<config>/bin/orch-tick`, the units
(`$XDG_CONFIG_HOME/systemd/user/`, `~/Library/LaunchAgents/`) or one crontab line carrying
a marker comment, and a manifest `<config>/service.json` naming what it wrote, so that
uninstall removes exactly that. Secrets never go into a unit: the wrapper loads
`<config>/env`. Installing twice rewrites the same files and the same single line.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from croniter import croniter

from orch.clock import SystemClock, parse_iso, utc_iso
from orch.errors import OrchError, UsageError
from orch.io import proc
from orch.io.proc import ProcResult
from orch.io.sidecar import read_json, read_versioned, write_text_atomic, write_versioned
from orch.paths import Paths

UNIT = "orch-tick"
LABEL = "com.orch.tick"
CRON_MARKER = "# orch:service orch-tick"
MANIFEST_SCHEMA = 1
DEFAULT_INTERVAL = 60
KINDS = ("systemd", "launchd", "cron")


# ---------------------------------------------------------------------------------------
# What gets rendered


@dataclass(frozen=True)
class ServiceSpec:
    """Everything a unit needs; no secret ever goes in here."""

    wrapper: Path  # the installed bin/orch-tick
    orch_bin: str  # absolute path of the orch executable
    env_file: Path  # <config>/env, loaded by the wrapper
    status_file: Path  # where the wrapper records the last exit code
    log_dir: Path  # launchd/cron output
    home: Path
    interval: int = DEFAULT_INTERVAL
    orch_home: str | None = None  # ORCH_HOME, when the user set one

    def environment(self) -> dict[str, str]:
        env = {
            "ORCH_BIN": self.orch_bin,
            "ORCH_ENV_FILE": str(self.env_file),
            "ORCH_TICK_STATUS": str(self.status_file),
        }
        if self.orch_home:
            env["ORCH_HOME"] = self.orch_home
        return env


def _systemd_quote(value: str) -> str:
    """A double-quoted systemd value: % doubled (specifiers), \\ and " escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def render_service(spec: ServiceSpec) -> str:
    env_lines = "".join(
        f"Environment={_systemd_quote(f'{k}={v}')}\n" for k, v in spec.environment().items()
    )
    return (
        "# orch-tick.service: one `orch tick`, started by orch-tick.timer.\n"
        "# Written by `orch service install`; `orch service uninstall` removes it.\n"
        "# No secrets here: GH_TOKEN and API keys go in the env file named below (mode 600),\n"
        "# which orch-tick loads.\n"
        "[Unit]\n"
        "Description=orch tick: turn GitHub issues into pull requests\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={_systemd_quote(str(spec.wrapper))}\n"
        "WorkingDirectory=%h\n"
        f"{env_lines}"
        "# A tick starts detached supervisors that run the agents and outlive it: when the\n"
        "# tick exits, stop only the tick, never the whole control group.\n"
        "KillMode=process\n"
        "# A tick never waits for agents; one that hangs this long is stuck.\n"
        "TimeoutStartSec=30min\n"
    )


def render_timer(spec: ServiceSpec) -> str:
    return (
        "# orch-tick.timer: starts orch-tick.service every interval.\n"
        "# Written by `orch service install`; `orch service uninstall` removes it.\n"
        "[Unit]\n"
        f"Description=Run orch tick every {spec.interval} seconds\n"
        "\n"
        "[Timer]\n"
        "OnActiveSec=30s\n"
        f"OnUnitActiveSec={spec.interval}s\n"
        "AccuracySec=1s\n"
        f"Unit={UNIT}.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def render_plist(spec: ServiceSpec) -> str:
    data: dict[str, Any] = {
        "Label": LABEL,
        "ProgramArguments": [str(spec.wrapper)],
        "StartInterval": spec.interval,
        "RunAtLoad": True,
        "WorkingDirectory": str(spec.home),
        "EnvironmentVariables": spec.environment(),
        "StandardOutPath": str(spec.log_dir / "launchd.out.log"),
        "StandardErrorPath": str(spec.log_dir / "launchd.err.log"),
        # Supervisors started by a tick live in their own sessions and must survive it.
        "AbandonProcessGroup": True,
        "ProcessType": "Background",
    }
    return plistlib.dumps(data, sort_keys=False).decode("utf-8")


def cron_schedule(interval: int) -> str:
    if interval % 60 or not 60 <= interval <= 3600:
        raise UsageError(
            f"--interval {interval}: cron runs at most once a minute; give a multiple of 60 "
            "between 60 and 3600"
        )
    minutes = interval // 60
    if minutes == 1:
        return "* * * * *"
    if minutes == 60:
        return "0 * * * *"
    return f"*/{minutes} * * * *"


def _cron_quote(value: str) -> str:
    return shlex.quote(value).replace("%", "\\%")  # % is a newline in crontab lines


def render_cron_line(spec: ServiceSpec) -> str:
    env = " ".join(f"{k}={_cron_quote(v)}" for k, v in spec.environment().items())
    log = _cron_quote(str(spec.log_dir / "cron.log"))
    return (
        f"{cron_schedule(spec.interval)} {env} {_cron_quote(str(spec.wrapper))} "
        f">> {log} 2>&1 {CRON_MARKER}"
    )


def with_cron_line(crontab: str, line: str | None) -> str:
    """The crontab with every orch line removed and, unless None, `line` added once."""
    kept = [x for x in crontab.splitlines() if CRON_MARKER not in x]
    if line is not None:
        kept.append(line)
    return "\n".join(kept) + "\n" if kept else ""


def wrapper_text() -> str:
    """bin/orch-tick as shipped in the package (orch.bin)."""

    return resources.files("orch.bin").joinpath("orch-tick").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------
# Where things go on this machine


Runner = Callable[..., ProcResult]


def _run(argv: Sequence[str], input: str | None = None) -> ProcResult:
    """Run a service tool; a missing one is exit 127, like a shell would say."""

    try:
        return proc.run(argv, input=input, timeout=30)
    except proc.CommandNotFound:
        return ProcResult(tuple(argv), 127, "", f"{argv[0]}: command not found")


@dataclass
class Host:
    """The user's machine as install sees it; tests point HOME and XDG dirs at tmp."""

    paths: Paths
    home: Path
    platform: str  # linux | darwin
    config_home: Path  # $XDG_CONFIG_HOME or ~/.config
    orch_bin: str
    orch_home: str | None
    uid: int
    run: Runner = field(default=_run)

    @classmethod
    def current(cls, paths: Paths, env: Mapping[str, str] | None = None) -> Host:
        env = os.environ if env is None else env
        home = Path(env.get("HOME") or Path.home())
        return cls(
            paths=paths,
            home=home,
            platform="darwin" if sys.platform == "darwin" else "linux",
            config_home=Path(env.get("XDG_CONFIG_HOME") or home / ".config"),
            orch_bin=find_orch_bin(),
            orch_home=env.get("ORCH_HOME") or None,
            uid=os.getuid(),
        )

    @property
    def systemd_dir(self) -> Path:
        return self.config_home / "systemd" / "user"

    @property
    def plist_file(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    @property
    def wrapper(self) -> Path:
        return self.paths.config_dir / "bin" / "orch-tick"

    @property
    def manifest(self) -> Path:
        return self.paths.config_dir / "service.json"

    @property
    def status_file(self) -> Path:
        return self.paths.state_dir / "service-last-run.json"

    def spec(self, interval: int) -> ServiceSpec:
        return ServiceSpec(
            wrapper=self.wrapper,
            orch_bin=self.orch_bin,
            env_file=self.paths.env_file,
            status_file=self.status_file,
            log_dir=self.paths.logs_dir,
            home=self.home,
            interval=interval,
            orch_home=self.orch_home,
        )

    def default_kind(self) -> str:
        return "launchd" if self.platform == "darwin" else "systemd"


def find_orch_bin() -> str:
    """The orch executable: the one beside this Python (venvs) first, then PATH."""

    beside = Path(sys.executable).parent / "orch"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = proc.which("orch")
    return str(Path(found).resolve()) if found else "orch"


# ---------------------------------------------------------------------------------------
# Install / uninstall / status / start / stop


@dataclass(frozen=True)
class Step:
    """One thing install/uninstall did (or, with dry_run, would do)."""

    action: str  # write | remove | run | note
    target: str
    ok: bool = True
    detail: str = ""
    content: str = ""  # what a write (or `crontab -`) puts there, shown by --dry-run

    def line(self, dry_run: bool) -> str:
        verb = f"would {self.action}" if dry_run and self.action != "note" else self.action
        text = f"{verb} {self.target}" if self.action != "note" else self.target
        if not self.ok:
            text += f" (failed: {self.detail})" if self.detail else " (failed)"
        return text


@dataclass(frozen=True)
class ServiceReport:
    kind: str
    steps: tuple[Step, ...]
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "steps": [
                {
                    "action": s.action,
                    "target": s.target,
                    "ok": s.ok,
                    "detail": s.detail,
                    "content": s.content,
                }
                for s in self.steps
            ],
        }


class _Plan:
    def __init__(self, host: Host, dry_run: bool) -> None:
        self.host = host
        self.dry_run = dry_run
        self.steps: list[Step] = []

    def write(self, path: Path, text: str, mode: int = 0o644) -> None:
        if not self.dry_run:
            write_text_atomic(path, text)
            path.chmod(mode)
        self.steps.append(Step("write", str(path), content=text))

    def remove(self, path: Path) -> None:
        if not path.exists():
            return
        if not self.dry_run:
            path.unlink()
        self.steps.append(Step("remove", str(path)))

    def run(self, argv: Sequence[str], *, required: bool = True) -> ProcResult | None:
        shown = " ".join(shlex.quote(a) for a in argv)
        if self.dry_run:
            self.steps.append(Step("run", shown))
            return None
        result = self.host.run(argv)
        detail = (result.stderr or result.stdout).strip().splitlines()
        ok = result.ok or not required
        self.steps.append(Step("run", shown, ok, detail[-1] if detail and not result.ok else ""))
        return result

    def note(self, text: str) -> None:
        self.steps.append(Step("note", text))


def _read_crontab(host: Host) -> str:
    result = host.run(["crontab", "-l"])
    if result.returncode == 127:
        raise OrchError(
            "crontab: command not found; install cron or use `orch service install` without --cron"
        )
    return result.stdout if result.ok else ""  # "no crontab for USER" exits 1


def _write_crontab(plan: _Plan, text: str) -> None:
    shown = "crontab -"
    if plan.dry_run:
        plan.steps.append(Step("run", shown, content=text))
        return
    result = plan.host.run(["crontab", "-"], input=text)
    detail = (result.stderr or result.stdout).strip()
    plan.steps.append(Step("run", shown, result.ok, detail))


def read_manifest(host: Host) -> dict[str, Any] | None:

    return read_versioned(host.manifest, MANIFEST_SCHEMA)


def installed_kinds(host: Host) -> list[str]:
    """Which kinds are installed: from the manifest, else from the files on disk."""
    found: list[str] = []
    manifest = read_manifest(host)
    if manifest and manifest.get("kind") in KINDS:
        found.append(str(manifest["kind"]))
    if (host.systemd_dir / f"{UNIT}.timer").exists() and "systemd" not in found:
        found.append("systemd")
    if host.plist_file.exists() and "launchd" not in found:
        found.append("launchd")
    return found


def install(
    host: Host, *, interval: int = DEFAULT_INTERVAL, cron: bool = False, dry_run: bool = False
) -> ServiceReport:
    """Write the wrapper and the units for this user and enable them; harmless twice."""
    if interval < 10:
        raise UsageError(f"--interval {interval}: give at least 10 seconds")
    kind = "cron" if cron else host.default_kind()
    spec = host.spec(interval)
    if kind == "cron":
        cron_schedule(interval)  # refuse a bad interval before writing anything
    plan = _Plan(host, dry_run)
    for other in installed_kinds(host):
        if other != kind:
            plan.note(f"replacing the {other} install")
            _uninstall_kind(host, plan, other)
    plan.write(host.wrapper, wrapper_text(), 0o755)
    written = [str(host.wrapper)]
    if kind == "systemd":
        service = host.systemd_dir / f"{UNIT}.service"
        timer = host.systemd_dir / f"{UNIT}.timer"
        plan.write(service, render_service(spec))
        plan.write(timer, render_timer(spec))
        written += [str(service), str(timer)]
        plan.run(["systemctl", "--user", "daemon-reload"])
        plan.run(["systemctl", "--user", "enable", "--now", f"{UNIT}.timer"])
        _linger_note(host, plan)
    elif kind == "launchd":
        plan.write(host.plist_file, render_plist(spec))
        written.append(str(host.plist_file))
        target = f"gui/{host.uid}"
        plan.run(["launchctl", "bootout", f"{target}/{LABEL}"], required=False)
        plan.run(["launchctl", "bootstrap", target, str(host.plist_file)])
    else:
        current = _read_crontab(host)
        _write_crontab(plan, with_cron_line(current, render_cron_line(spec)))
    if not dry_run:
        write_versioned(
            host.manifest,
            MANIFEST_SCHEMA,
            {
                "kind": kind,
                "interval": interval,
                "files": written,
                "installed_at": utc_iso(SystemClock().now()),
            },
        )
    plan.steps.append(Step("write", str(host.manifest)))
    if not host.paths.env_file.exists():
        plan.note(
            f"put GH_TOKEN=… (and agent API keys) in {host.paths.env_file} "
            f"and `chmod 600` it if the timer's environment lacks them"
        )
    return ServiceReport(kind, tuple(plan.steps), dry_run)


def _has_crontab(host: Host) -> bool:

    return proc.which("crontab") is not None


def _linger_note(host: Host, plan: _Plan) -> None:
    user = os.environ.get("USER") or host.home.name
    result = host.run(["loginctl", "show-user", user, "--property=Linger", "--value"])
    if result.ok and result.stdout.strip() == "no":
        plan.note(
            f"user timers stop when you log out: run `loginctl enable-linger {user}` to keep them running"
        )


def _uninstall_kind(host: Host, plan: _Plan, kind: str) -> None:
    if kind == "systemd":
        plan.run(["systemctl", "--user", "disable", "--now", f"{UNIT}.timer"], required=False)
        plan.remove(host.systemd_dir / f"{UNIT}.timer")
        plan.remove(host.systemd_dir / f"{UNIT}.service")
        plan.run(["systemctl", "--user", "daemon-reload"], required=False)
    elif kind == "launchd":
        plan.run(["launchctl", "bootout", f"gui/{host.uid}/{LABEL}"], required=False)
        plan.remove(host.plist_file)
    else:
        current = _read_crontab(host)
        if CRON_MARKER in current:
            _write_crontab(plan, with_cron_line(current, None))


def uninstall(host: Host, *, dry_run: bool = False) -> ServiceReport:
    """Stop and remove exactly what install wrote (the env file is the user's: kept)."""
    manifest = read_manifest(host) or {}
    kinds = installed_kinds(host)
    if _has_crontab(host) and "cron" not in kinds and CRON_MARKER in _read_crontab(host):
        kinds.append("cron")
    plan = _Plan(host, dry_run)
    for kind in kinds:
        _uninstall_kind(host, plan, kind)
    for name in manifest.get("files", []):
        path = Path(str(name))
        if path.exists() and not any(s.target == str(path) for s in plan.steps):
            plan.remove(path)
    plan.remove(host.wrapper)
    plan.remove(host.manifest)
    if not plan.steps:
        plan.note("nothing to uninstall: no orch service is installed")
    return ServiceReport(", ".join(kinds) or "none", tuple(plan.steps), dry_run)


@dataclass(frozen=True)
class ServiceStatus:
    kind: str | None  # systemd | launchd | cron | None (not installed)
    installed: bool
    enabled: bool | None
    interval: int | None
    last_exit: int | None
    last_run: str | None  # ISO
    next_run: str | None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "installed": self.installed,
            "enabled": self.enabled,
            "interval": self.interval,
            "last_exit": self.last_exit,
            "last_run": self.last_run,
            "next_run": self.next_run,
            "detail": self.detail,
        }


def status(host: Host, now: datetime) -> ServiceStatus:

    manifest = read_manifest(host) or {}
    kinds = installed_kinds(host)
    crontab = _read_crontab(host) if _has_crontab(host) and (not kinds or kinds == ["cron"]) else ""
    if not kinds and CRON_MARKER in crontab:
        kinds = ["cron"]
    last = read_json(host.status_file, {}) or {}
    last_exit = last.get("exit_code") if isinstance(last.get("exit_code"), int) else None
    last_run = last.get("finished_at") if isinstance(last.get("finished_at"), str) else None
    if not kinds:
        return ServiceStatus(
            None,
            False,
            None,
            None,
            last_exit,
            last_run,
            None,
            "not installed: run `orch service install`",
        )
    kind = kinds[0]
    interval = manifest.get("interval") if isinstance(manifest.get("interval"), int) else None
    enabled: bool | None = None
    next_run: str | None = None
    detail = ""
    if kind == "systemd":
        result = host.run(["systemctl", "--user", "is-enabled", f"{UNIT}.timer"])
        enabled = result.stdout.strip() == "enabled" if result.returncode != 127 else None
        shown = host.run(
            [
                "systemctl",
                "--user",
                "show",
                f"{UNIT}.timer",
                "--property=NextElapseUSecRealtime",
                "--value",
            ]
        )
        if shown.ok and shown.stdout.strip() and shown.stdout.strip() != "n/a":
            next_run = shown.stdout.strip()
        if enabled is None:
            detail = "systemctl not found"
    elif kind == "launchd":
        result = host.run(["launchctl", "print", f"gui/{host.uid}/{LABEL}"])
        enabled = result.ok if result.returncode != 127 else None
    else:
        lines = [x for x in crontab.splitlines() if CRON_MARKER in x]
        enabled = bool(lines) and not lines[0].lstrip().startswith("#")
        if enabled:
            schedule = " ".join(lines[0].split()[:5])
            slot: datetime = croniter(schedule, now).get_next(datetime)
            next_run = utc_iso(slot)
    if next_run is None and enabled and interval and last_run:
        try:
            next_run = utc_iso(max(parse_iso(last_run) + timedelta(seconds=interval), now))
        except ValueError:
            next_run = None
    return ServiceStatus(kind, True, enabled, interval, last_exit, last_run, next_run, detail)


def start_stop(host: Host, start: bool, *, dry_run: bool = False) -> ServiceReport:
    """Resume (start) or pause (stop) the installed timer without uninstalling it."""
    kinds = installed_kinds(host)
    if not kinds and _has_crontab(host) and CRON_MARKER in _read_crontab(host):
        kinds = ["cron"]
    if not kinds:
        raise OrchError("no orch service is installed: run `orch service install` first")
    plan = _Plan(host, dry_run)
    kind = kinds[0]
    if kind == "systemd":
        plan.run(["systemctl", "--user", "start" if start else "stop", f"{UNIT}.timer"])
    elif kind == "launchd":
        target = f"gui/{host.uid}"
        if start:
            plan.run(["launchctl", "bootstrap", target, str(host.plist_file)])
        else:
            plan.run(["launchctl", "bootout", f"{target}/{LABEL}"])
    else:
        lines = []
        for line in _read_crontab(host).splitlines():
            if CRON_MARKER in line:
                line = line.lstrip("#").lstrip() if start else "#" + line.lstrip("#")
            lines.append(line)
        _write_crontab(plan, "\n".join(lines) + "\n")
    return ServiceReport(kind, tuple(plan.steps), dry_run)


# The repository's systemd/ and launchd/ files are these renderings (a test keeps them equal).
EXAMPLE_LINUX = ServiceSpec(
    wrapper=Path("/home/you/.config/orch/bin/orch-tick"),
    orch_bin="/home/you/.local/bin/orch",
    env_file=Path("/home/you/.config/orch/env"),
    status_file=Path("/home/you/.local/state/orch/service-last-run.json"),
    log_dir=Path("/home/you/.local/state/orch/logs"),
    home=Path("/home/you"),
)
EXAMPLE_MACOS = ServiceSpec(
    wrapper=Path("/Users/you/Library/Application Support/orch/bin/orch-tick"),
    orch_bin="/opt/homebrew/bin/orch",
    env_file=Path("/Users/you/Library/Application Support/orch/env"),
    status_file=Path("/Users/you/Library/Application Support/orch/service-last-run.json"),
    log_dir=Path("/Users/you/Library/Application Support/orch/logs"),
    home=Path("/Users/you"),
)
