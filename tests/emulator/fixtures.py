"""pytest fixtures for the GitHub emulator (registered as a plugin in tests/conftest.py).

- `emulator_server` (session): the HTTPS server on 127.0.0.1, one per pytest worker.
- `emulator` (function): the emulator with fresh state: repo `acme/widgets`, its admin
  user `owner` whose token (`emulator.token`) is the one `gh_env` carries.
- `gh_env` (function): `orch_env` plus what the real gh needs to talk to the emulator.
- `gh_repo` (function): the test checkout (`repo` fixture) with a `.orch.yml` pointing at
  the emulator, and the emulator reading PR head SHAs from its bare origin.
- `write_orch_config(root, emulator, ...)`: write that `.orch.yml` yourself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.emulator.server import DEFAULT_REPO, Emulator, EmulatorServer
from tests.helpers import Repo

# Backoff for tests: short waits, so a test that exercises a retry never sleeps long.
TEST_BACKOFF = {"mode": "wait", "base_seconds": 0.3, "max_seconds": 3}


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorServer]:
    server = EmulatorServer(tmp_path_factory.mktemp("gh-emulator-tls")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def gh_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh GH_CONFIG_DIR and TMPDIR for the session: gh caches answers (even 4xx) in
    $TMPDIR/gh-cli-cache, and a user's own gh config must never be read."""
    base = tmp_path_factory.mktemp("gh-client")
    (base / "config").mkdir()
    (base / "tmp").mkdir()
    return {"GH_CONFIG_DIR": str(base / "config"), "TMPDIR": str(base / "tmp")}


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[Emulator]:
    emu = emulator_server.emulator
    emu.reset()
    yield emu
    emu.clear_faults()


def emulator_env(
    emulator: Emulator, gh_dirs: dict[str, str], base: dict[str, str]
) -> dict[str, str]:
    """`base` plus the variables that point the real gh at the emulator."""
    env = dict(base)
    env.update(gh_dirs)
    env.update(
        {
            "GH_ENTERPRISE_TOKEN": emulator.token,
            "SSL_CERT_FILE": str(emulator.cert_path),
            "GH_NO_UPDATE_NOTIFIER": "1",
            "GH_PROMPT_DISABLED": "1",
            "NO_COLOR": "1",
        }
    )
    return env


@pytest.fixture
def gh_env(emulator: Emulator, gh_dirs: dict[str, str], orch_env: dict[str, str]) -> dict[str, str]:
    """The environment for subprocesses (orch, gh) that talk to the emulator."""
    return emulator_env(emulator, gh_dirs, orch_env)


def write_orch_config(
    root: Path,
    emulator: Emulator,
    *,
    repo: str = DEFAULT_REPO,
    backoff: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `<root>/.orch.yml` with `gh: {repo, host}` pointing at the emulator (plus the
    short test backoff and any `extra` top-level keys); return its path."""
    config: dict[str, Any] = {
        "gh": {"repo": repo, "host": emulator.host, "backoff": backoff or TEST_BACKOFF},
    }
    for key, value in (extra or {}).items():
        if key == "gh":
            config["gh"].update(value)
        else:
            config[key] = value
    path = root / ".orch.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def gh_repo(repo: Repo, emulator: Emulator) -> Repo:
    """The test checkout configured for the emulator's `acme/widgets`."""
    write_orch_config(repo.work, emulator)
    emulator.set_origin(repo.origin)
    return repo
