"""`orch service`: unit rendering (checked by systemd-analyze / plutil when present) and
install / status / start / stop / uninstall through the real CLI, with HOME and the XDG
dirs in tmp and stub `systemctl`, `loginctl` and `crontab` executables on PATH."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from orch.admin import service
from orch.errors import UsageError
from tests.helpers import Result, run_orch

REPO = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------
# Pure rendering


def test_repository_unit_files_are_the_renderings() -> None:
    # One source of truth: orch/admin/service.py. The shipped examples must not drift from it.
    assert (REPO / "systemd" / "orch-tick.service").read_text() == service.render_service(
        service.EXAMPLE_LINUX
    )
    assert (REPO / "systemd" / "orch-tick.timer").read_text() == service.render_timer(
        service.EXAMPLE_LINUX
    )
    assert (REPO / "launchd" / "com.orch.tick.plist").read_text() == service.render_plist(
        service.EXAMPLE_MACOS
    )


def test_units_carry_no_secret_and_keep_supervisors_alive() -> None:
    spec = service.EXAMPLE_LINUX
    text = service.render_service(spec)
    assert "TOKEN" not in text.replace("GH_TOKEN and API keys go in the env file", "")
    assert "KillMode=process\n" in text
    assert "Type=oneshot\n" in text
    plist = plistlib.loads(service.render_plist(service.EXAMPLE_MACOS).encode())
    assert plist["StartInterval"] == 60
    assert plist["AbandonProcessGroup"] is True
    assert set(plist["EnvironmentVariables"]) == {"ORCH_BIN", "ORCH_ENV_FILE", "ORCH_TICK_STATUS"}


def test_systemd_values_are_quoted_and_percent_escaped(tmp_path: Path) -> None:
    spec = service.ServiceSpec(
        wrapper=Path("/home/a b/100%/orch-tick"),
        orch_bin='/x/"or"ch',
        env_file=Path("/e"),
        status_file=Path("/s"),
        log_dir=Path("/l"),
        home=Path("/home/a b"),
        interval=300,
        orch_home="/home/a b/orch",
    )
    text = service.render_service(spec)
    assert 'ExecStart="/home/a b/100%%/orch-tick"\n' in text
    assert 'Environment="ORCH_BIN=/x/\\"or\\"ch"\n' in text
    assert 'Environment="ORCH_HOME=/home/a b/orch"\n' in text
    assert "OnUnitActiveSec=300s\n" in service.render_timer(spec)
    line = service.render_cron_line(spec)
    assert line.startswith("*/5 * * * * ORCH_BIN='/x/\"or\"ch' ")
    assert "'/home/a b/100\\%/orch-tick' >> /l/cron.log 2>&1 # orch:service orch-tick" in line


@pytest.mark.parametrize(
    ("interval", "schedule"), [(60, "* * * * *"), (120, "*/2 * * * *"), (3600, "0 * * * *")]
)
def test_cron_schedule(interval: int, schedule: str) -> None:
    assert service.cron_schedule(interval) == schedule


@pytest.mark.parametrize("interval", [30, 90, 7200])
def test_cron_schedule_refuses(interval: int) -> None:
    with pytest.raises(UsageError, match="multiple of 60"):
        service.cron_schedule(interval)


def test_with_cron_line_replaces_only_its_own_line() -> None:
    mine = "* * * * * /x/orch-tick # orch:service orch-tick"
    user = "# my jobs\n0 3 * * * backup.sh\n"
    once = service.with_cron_line(user, mine)
    assert once == user + mine + "\n"
    assert service.with_cron_line(once, mine) == once
    assert service.with_cron_line(once, None) == user
    assert service.with_cron_line("", None) == ""


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_rendered_units_pass_systemd_analyze(tmp_path: Path) -> None:
    wrapper = tmp_path / "bin" / "orch-tick"
    wrapper.parent.mkdir()
    wrapper.write_text(service.wrapper_text())
    wrapper.chmod(0o755)
    spec = service.ServiceSpec(
        wrapper=wrapper,
        orch_bin="/usr/bin/true",
        env_file=tmp_path / "env",
        status_file=tmp_path / "s.json",
        log_dir=tmp_path,
        home=tmp_path,
        interval=120,
    )
    (tmp_path / "orch-tick.service").write_text(service.render_service(spec))
    (tmp_path / "orch-tick.timer").write_text(service.render_timer(spec))
    verify(tmp_path / "orch-tick.service", tmp_path / "orch-tick.timer")


def verify(*units: Path) -> None:
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(not shutil.which("plutil"), reason="plutil (macOS) not installed")
def test_plist_passes_plutil(tmp_path: Path) -> None:  # pragma: no cover - macOS only
    path = tmp_path / "com.orch.tick.plist"
    path.write_text(service.render_plist(service.EXAMPLE_MACOS))
    done = subprocess.run(
        ["plutil", "-lint", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------------------------------
# Install / status / uninstall through the real CLI

SYSTEMCTL = """#!/bin/sh
echo "systemctl $*" >> "$STUB_LOG"
case "$*" in
  *is-enabled*) cat "$STUB_DIR/enabled" 2>/dev/null || echo disabled ;;
  *NextElapseUSecRealtime*) echo "Sat 2026-11-21 08:00:00 UTC" ;;
  *"enable --now"*) echo enabled > "$STUB_DIR/enabled" ;;
  *"disable --now"*) rm -f "$STUB_DIR/enabled" ;;
esac
exit 0
"""
LOGINCTL = """#!/bin/sh
echo "loginctl $*" >> "$STUB_LOG"
echo no
"""
CRONTAB = """#!/bin/sh
echo "crontab $*" >> "$STUB_LOG"
if [ "$1" = "-l" ]; then
  if [ -f "$STUB_DIR/crontab.txt" ]; then cat "$STUB_DIR/crontab.txt"; exit 0; fi
  echo "no crontab for $USER" >&2; exit 1
fi
cat > "$STUB_DIR/crontab.txt"
"""


class Machine:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.home = tmp_path / "home"
        self.stubs = tmp_path / "stubs"
        self.orch_home = tmp_path / "orch-home"
        self.home.mkdir()
        self.stubs.mkdir()
        for name, text in (("systemctl", SYSTEMCTL), ("loginctl", LOGINCTL), ("crontab", CRONTAB)):
            (self.stubs / name).write_text(text)
            (self.stubs / name).chmod(0o755)
        self.log = tmp_path / "stub.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GH_", "GITHUB_", "ORCH_", "XDG_"))
        }
        self.env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".cfg"),
            ORCH_HOME=str(self.orch_home),
            PATH=f"{self.stubs}:{os.environ['PATH']}",
            STUB_LOG=str(self.log),
            STUB_DIR=str(self.stubs),
            USER="tester",
        )

    def orch(self, *args: str) -> Result:
        return run_orch(*args, cwd=self.home, env=self.env)

    def calls(self) -> list[str]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        self.log.unlink(missing_ok=True)
        return lines

    def files(self) -> set[str]:
        return {
            str(p.relative_to(self.root))
            for p in self.root.rglob("*")
            if p.is_file() and self.stubs not in p.parents and p != self.log
        }


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_systemd_install_status_uninstall(machine: Machine) -> None:
    before = machine.files()
    first = machine.orch("service", "install")
    assert first.code == 0, first
    units = machine.home / ".cfg" / "systemd" / "user"
    wrapper = machine.orch_home / "bin" / "orch-tick"
    assert first.out == (
        f"write {wrapper}\n"
        f"write {units / 'orch-tick.service'}\n"
        f"write {units / 'orch-tick.timer'}\n"
        "run systemctl --user daemon-reload\n"
        "run systemctl --user enable --now orch-tick.timer\n"
        f"write {machine.orch_home / 'service.json'}\n"
    )
    assert first.err == (
        "user timers stop when you log out: run `loginctl enable-linger tester` to keep them running\n"
        f"put GH_TOKEN=… (and agent API keys) in {machine.orch_home / 'env'} and `chmod 600` it "
        "if the timer's environment lacks them\n"
        "no project is registered: the timer's `orch tick` has nothing to do until you run "
        "`orch init` (or `orch project add PATH`) for each project\n"
    )
    assert machine.calls() == [
        "systemctl --user daemon-reload",
        "systemctl --user enable --now orch-tick.timer",
        "loginctl show-user tester --property=Linger --value",
    ]
    service_text = (units / "orch-tick.service").read_text()
    assert f'ExecStart="{wrapper}"\n' in service_text
    assert f'Environment="ORCH_HOME={machine.orch_home}"\n' in service_text
    assert f'Environment="ORCH_ENV_FILE={machine.orch_home / "env"}"\n' in service_text
    assert wrapper.read_text() == (REPO / "bin" / "orch-tick").read_text()
    assert os.access(wrapper, os.X_OK)
    if shutil.which("systemd-analyze"):
        verify(units / "orch-tick.service", units / "orch-tick.timer")

    # Installing twice rewrites the same files: nothing new appears.
    after_first = machine.files()
    second = machine.orch("service", "install")
    assert second.code == 0 and second.out == first.out, second
    assert machine.files() == after_first

    st = machine.orch("service", "status")
    assert (st.code, st.out) == (
        0,
        (
            "installed: yes (systemd)\n"
            "enabled:   yes\n"
            "interval:  60s\n"
            "last run:  never\n"
            "next run:  Sat 2026-11-21 08:00:00 UTC\n"
        ),
    ), st
    # The wrapper records every run; status shows it.
    (machine.orch_home / "state").mkdir(exist_ok=True)
    (machine.orch_home / "state" / "service-last-run.json").write_text(
        '{"exit_code": 4, "finished_at": "2026-11-21T07:59:02Z", "started_at": "2026-11-21T07:59:00Z"}\n'
    )
    assert "last run:  2026-11-21T07:59:02Z (exit 4)\n" in machine.orch("service", "status").out

    machine.calls()
    stop = machine.orch("service", "stop")
    assert (stop.code, stop.out) == (0, "run systemctl --user stop orch-tick.timer\n")
    assert machine.calls() == ["systemctl --user stop orch-tick.timer"]

    (machine.orch_home / "state" / "service-last-run.json").unlink()
    gone = machine.orch("service", "uninstall")
    assert gone.code == 0, gone
    assert gone.out == (
        "run systemctl --user disable --now orch-tick.timer\n"
        f"remove {units / 'orch-tick.timer'}\n"
        f"remove {units / 'orch-tick.service'}\n"
        "run systemctl --user daemon-reload\n"
        f"remove {wrapper}\n"
        f"remove {machine.orch_home / 'service.json'}\n"
    )
    assert machine.files() == before
    assert machine.orch("service", "status").out == "installed: no\nlast run:  never\n"


def test_install_dry_run_writes_nothing(machine: Machine) -> None:
    before = machine.files()
    result = machine.orch("service", "install", "--dry-run")
    assert result.code == 0, result
    lines = result.out.splitlines()
    wrapper = machine.orch_home / "bin" / "orch-tick"
    assert lines[0] == f"would write {wrapper}:"
    # Each file it would write, in full, indented under its path.
    assert lines[1] == "    #!/bin/sh"
    writes = [i for i, line in enumerate(lines) if line.startswith("would write ")]
    assert len(writes) >= 3, result.out  # wrapper, service unit, timer unit
    unit = next(i for i in writes if lines[i].endswith("orch-tick.service:"))
    assert "    [Unit]" in lines[unit:], result.out
    assert "    [Timer]" in lines, result.out
    assert "would run systemctl --user enable --now orch-tick.timer" in result.out
    data = json.loads(machine.orch("service", "install", "--dry-run", "--json").out)
    written = {
        Path(s["target"]).name: s["content"] for s in data["steps"] if s["action"] == "write"
    }
    assert written["orch-tick"].startswith("#!/bin/sh\n")
    assert "[Timer]" in written["orch-tick.timer"]
    assert machine.files() == before
    assert [c for c in machine.calls() if c.startswith("systemctl")] == []


def test_cron_install_twice_then_uninstall_restores_the_crontab(machine: Machine) -> None:
    user_crontab = "# backups\n0 3 * * * /usr/local/bin/backup.sh\n"
    data = machine.stubs / "crontab.txt"
    data.write_text(user_crontab)

    first = machine.orch("service", "install", "--cron", "--interval", "300")
    assert first.code == 0, first
    second = machine.orch("service", "install", "--cron", "--interval", "300")
    assert second.code == 0, second
    lines = data.read_text().splitlines()
    assert lines[:2] == user_crontab.splitlines()
    assert len(lines) == 3
    wrapper = machine.orch_home / "bin" / "orch-tick"
    assert lines[2].startswith("*/5 * * * * ORCH_BIN=")
    assert lines[2].endswith(
        f"{wrapper} >> {machine.orch_home / 'state' / 'logs' / 'cron.log'} 2>&1 # orch:service orch-tick"
    )
    assert "systemctl" not in "".join(machine.calls())

    st = machine.orch("service", "status", "--json")
    assert st.code == 0, st
    import json

    data_json = json.loads(st.out)
    assert (
        data_json["kind"],
        data_json["installed"],
        data_json["enabled"],
        data_json["interval"],
    ) == ("cron", True, True, 300)
    assert data_json["next_run"].endswith(("0:00Z", "5:00Z"))

    assert machine.orch("service", "stop").code == 0
    assert data.read_text().splitlines()[2].startswith("#*/5 * * * *")
    assert json.loads(machine.orch("service", "status", "--json").out)["enabled"] is False
    assert machine.orch("service", "start").code == 0
    assert data.read_text().splitlines()[2].startswith("*/5 * * * *")

    gone = machine.orch("service", "uninstall")
    assert gone.code == 0, gone
    assert data.read_text() == user_crontab
    assert not wrapper.exists()


def test_cron_refuses_sub_minute_interval(machine: Machine) -> None:
    result = machine.orch("service", "install", "--cron", "--interval", "30")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "orch: --interval 30: cron runs at most once a minute; give a multiple of 60 between 60 and 3600\n"
    )
    assert not (machine.orch_home / "bin").exists()


def test_failed_enable_is_reported(machine: Machine) -> None:
    (machine.stubs / "systemctl").write_text(
        '#!/bin/sh\necho "Failed to connect to bus: No medium found" >&2\nexit 1\n'
    )
    result = machine.orch("service", "install")
    assert result.code == 1, result
    assert (
        "run systemctl --user daemon-reload (failed: Failed to connect to bus: No medium found)\n"
        in result.out
    )
    assert result.err.endswith(
        "orch: systemctl --user daemon-reload failed: Failed to connect to bus: No medium found; "
        "the files are written, fix the cause and run the command again\n"
    )


def test_start_without_install(machine: Machine) -> None:
    result = machine.orch("service", "start")
    assert (result.code, result.out, result.err) == (
        1,
        "",
        "orch: no orch service is installed: run `orch service install` first\n",
    )
