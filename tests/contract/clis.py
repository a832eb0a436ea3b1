"""Finding the real agent CLIs and an isolated, offline environment for each one.

Shared by the contract tests and the end-to-end ticks (tests/test_e2e_real_clis.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.contract.fake_model import FakeModel
from tests.helpers import GIT_IDENTITY

CLIS = ("claude", "codex", "opencode")


def bin_dir() -> str | None:
    return os.environ.get("ORCH_CONTRACT_BIN")


def find(name: str) -> str | None:
    return shutil.which(name, path=bin_dir()) if bin_dir() else shutil.which(name)


def need(name: str) -> str:
    path = find(name)
    if path is None:
        why = (
            f"{name} not found (set ORCH_CONTRACT_BIN to a node_modules/.bin; .ci/run installs it)"
        )
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(why)
        pytest.skip(why)
    return path


def cli_env(place: Path, model: FakeModel, name: str) -> dict[str, str]:
    """An isolated environment pointing one CLI at the fake model."""
    home = place / "home"
    home.mkdir(exist_ok=True)
    path = os.pathsep.join(p for p in (bin_dir(), os.environ.get("PATH", "")) if p)
    env = {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "GH_TOKEN": "ghp_contract_must_not_leak",
        **GIT_IDENTITY,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if name == "claude":
        env.update(
            {
                "ANTHROPIC_BASE_URL": model.url,
                "ANTHROPIC_API_KEY": "sk-ant-fake",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                "DISABLE_AUTOUPDATER": "1",
                "DISABLE_TELEMETRY": "1",
                "DISABLE_ERROR_REPORTING": "1",
            }
        )
    elif name == "codex":
        codex_home = home / ".codex"
        codex_home.mkdir(exist_ok=True)
        (codex_home / "config.toml").write_text(
            'model_provider = "fake"\ncheck_for_update_on_startup = false\n\n'
            '[analytics]\nenabled = false\n\n[model_providers.fake]\nname = "fake"\n'
            f'base_url = "{model.url}/v1"\nenv_key = "FAKE_OPENAI_KEY"\nwire_api = "responses"\n'
            "request_max_retries = 0\nstream_max_retries = 0\n"
        )
        env.update({"CODEX_HOME": str(codex_home), "FAKE_OPENAI_KEY": "sk-fake"})
    else:
        # The provider in the user's own OPENCODE_CONFIG file: orch's permissions must
        # merge over it (OPENCODE_CONFIG_CONTENT), not replace it.
        user_config = home / "my-opencode.json"
        env["OPENCODE_CONFIG"] = str(user_config)
        user_config.write_text(
            '{"$schema": "https://opencode.ai/config.json", "provider": {"fake": {'
            '"npm": "@ai-sdk/openai-compatible", "name": "fake", "options": {'
            f'"baseURL": "{model.url}/v1", "apiKey": "sk-fake"}}, '
            '"models": {"fake-model": {"name": "fake-model"}}}}}'
        )
        env.update(
            {
                "OPENCODE_DISABLE_MODELS_FETCH": "1",
                "OPENCODE_DISABLE_AUTOUPDATE": "1",
                "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            }
        )
    return env
