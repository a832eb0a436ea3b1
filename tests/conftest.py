"""Fixtures shared by all tests. Emulator fixtures live in tests/emulator/fixtures.py."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import GIT_IDENTITY, Repo, Result, make_repo, run_orch

pytest_plugins = ["tests.emulator.fixtures"]

# Variables from the developer's machine that would leak into tests.
_SCRUB = (
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
    "GH_HOST",
    "GH_REPO",
    "ORCH_HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
)


@pytest.fixture
def orch_env(tmp_path: Path) -> dict[str, str]:
    """An environment with its own ORCH_HOME and git identity, and no GitHub tokens."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["ORCH_HOME"] = str(tmp_path / "orch-home")
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    env.update(GIT_IDENTITY)
    return env


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path)


@pytest.fixture
def orch(repo: Repo, orch_env: dict[str, str]) -> Callable[..., Result]:
    """Run `orch ARGS` in the repo's checkout with the test environment."""

    def _run(*args: str, input: str | None = None, cwd: Path | None = None) -> Result:
        return run_orch(*args, cwd=cwd or repo.work, env=orch_env, input=input)

    return _run


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """pytest's caplog, also fed by the "orch" logger: an in-process `orch` run earlier in
    the same worker (orch.log.setup) stops that logger from propagating to the root."""
    logger = logging.getLogger("orch")
    propagate, logger.propagate = logger.propagate, False  # each record once
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.propagate = propagate
