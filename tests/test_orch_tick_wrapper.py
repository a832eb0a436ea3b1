"""bin/orch-tick, the POSIX wrapper timers run: PATH, env file, exit code, status record.

Each test runs the real script (under dash when present, the strictest common /bin/sh)
with a stub `orch` that prints what it received."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

WRAPPER = Path(__file__).resolve().parents[1] / "bin" / "orch-tick"
SHELLS = [s for s in ("dash", "sh", "bash") if shutil.which(s)]

STUB = """#!/bin/sh
echo "args: $*"
echo "GH_TOKEN=${GH_TOKEN:-unset}"
echo "PATH=$PATH"
exit ${STUB_EXIT:-0}
"""


def stub(directory: Path, text: str = STUB, name: str = "orch") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    path.chmod(0o755)
    return path


def run(shell: str, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    return subprocess.run(
        [shell, str(WRAPPER), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_finds_orch_in_local_bin_and_passes_args_and_exit_code(tmp_path: Path, shell: str) -> None:
    home = tmp_path / "home"
    stub(home / ".local" / "bin")
    done = run(shell, home, "--only", "jobs", STUB_EXIT="7")
    assert done.returncode == 7, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "args: tick --only jobs"
    assert lines[1] == "GH_TOKEN=unset"
    path = lines[2].removeprefix("PATH=").split(":")
    assert path[0] == f"{home}/.local/bin"
    for wanted in (f"{home}/.npm-global/bin", "/opt/homebrew/bin", "/usr/local/bin"):
        assert wanted in path
    assert path[-2:] == ["/usr/bin", "/bin"]  # the timer's own PATH comes last
    assert done.stderr == ""


@pytest.mark.parametrize("shell", SHELLS)
def test_env_file_loaded_and_status_recorded(tmp_path: Path, shell: str) -> None:
    home = tmp_path / "home"
    orch_home = tmp_path / "orch-home"
    stub(home / ".local" / "bin")
    orch_home.mkdir()
    env_file = orch_home / "env"
    env_file.write_text("# tokens for unattended runs\nGH_TOKEN=ghp_fromfile\n")
    env_file.chmod(0o600)
    status = orch_home / "state" / "last.json"
    done = run(shell, home, ORCH_HOME=str(orch_home), ORCH_TICK_STATUS=str(status), STUB_EXIT="3")
    assert done.returncode == 3
    assert done.stdout.splitlines()[1] == "GH_TOKEN=ghp_fromfile"
    assert done.stderr == ""
    record = json.loads(status.read_text())
    assert record["exit_code"] == 3
    assert set(record) == {"exit_code", "finished_at", "started_at"}
    assert not status.with_name("last.json.tmp").exists()


def test_default_env_file_is_the_xdg_config_dir(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stub(home / ".local" / "bin")
    (home / "cfg" / "orch").mkdir(parents=True)
    env_file = home / "cfg" / "orch" / "env"
    env_file.write_text("GH_TOKEN=xdg\n")
    env_file.chmod(0o600)
    done = run(SHELLS[0], home, XDG_CONFIG_HOME=str(home / "cfg"))
    assert done.stdout.splitlines()[1] == "GH_TOKEN=xdg"


def test_readable_env_file_warns(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stub(home / ".local" / "bin")
    env_file = tmp_path / "env"
    env_file.write_text("GH_TOKEN=leaky\n")
    env_file.chmod(0o644)
    done = run(SHELLS[0], home, ORCH_ENV_FILE=str(env_file))
    assert done.returncode == 0
    assert done.stdout.splitlines()[1] == "GH_TOKEN=leaky"
    assert done.stderr == (
        f"orch-tick: warning: {env_file} is readable by others; run: chmod 600 '{env_file}'\n"
    )


def test_orch_bin_overrides_path(tmp_path: Path) -> None:
    home = tmp_path / "home"
    stub(home / ".local" / "bin", "#!/bin/sh\necho wrong one\n")
    chosen = stub(tmp_path / "venv" / "bin", '#!/bin/sh\necho chosen "$@"\n')
    done = run(SHELLS[0], home, ORCH_BIN=str(chosen))
    assert (done.returncode, done.stdout) == (0, "chosen tick\n")


def test_missing_orch_says_what_to_do(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = run(SHELLS[0], home, ORCH_BIN="orch-not-here")
    assert done.returncode == 127
    assert done.stdout == ""
    assert done.stderr.startswith("orch-tick: orch-not-here: not found (PATH=")
    assert done.stderr.endswith("); set ORCH_BIN or run 'orch service install' again\n")


def test_term_is_passed_to_orch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    marker = tmp_path / "got-term"
    stub(
        home / ".local" / "bin",
        f"""#!/bin/sh
trap 'echo term > "{marker}"; exit 143' TERM
echo started
while :; do sleep 0.1; done
""",
    )
    proc = subprocess.Popen(
        [SHELLS[0], str(WRAPPER)],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"  # the wrapper's trap is set before this
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 143
    assert marker.read_text() == "term\n"


def test_is_executable_posix_sh() -> None:
    assert os.access(WRAPPER, os.X_OK)
    assert WRAPPER.read_text().startswith("#!/bin/sh\n")
    if shutil.which("dash"):
        assert subprocess.run(["dash", "-n", str(WRAPPER)], check=False).returncode == 0
