"""The command reference in docs/commands.md is generated from --help and must match it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_command_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_commands", ROOT / "docs" / "gen_commands.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.render()
    current = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert current == expected, "docs/commands.md is stale: run `make docs` and commit it"


def test_readme_exit_codes_match_the_code() -> None:
    from orch.errors import EXIT_CODES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, _meaning in EXIT_CODES:
        assert f"| {code} |" in readme, f"exit code {code} missing from the README table"


def test_readme_quick_start_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install . && orch demo" in readme
    assert (
        "<!-- test-command -->\n```sh\npip install -e '.[test]' && python -m pytest\n```" in readme
    )


def test_readme_lists_every_environment_variable_orch_reads() -> None:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sources = [*(ROOT / "orch").rglob("*.py"), *(ROOT / "bin").iterdir()]
    names: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8", errors="replace")
        names |= set(re.findall(r"\b(ORCH_[A-Z][A-Z0-9_]*)\b", text))
        names |= set(re.findall(r"environ(?:\.get)?[\[(]\s*\"([A-Z_][A-Z0-9_]*)\"", text))
    names -= {"ORCH_COMPLETE"}  # matched inside `_ORCH_COMPLETE`
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"README's environment table lacks {missing}"


def test_actions_workflow_sets_up_and_ticks_with_an_app_token() -> None:
    import yaml

    text = (ROOT / "docs" / "github-actions" / "orch-tick.yml").read_text(encoding="utf-8")
    flow = yaml.safe_load(text)
    assert flow["concurrency"]["group"] == "orch-tick-${{ github.repository }}"
    steps = flow["jobs"]["tick"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/create-github-app-token@") for u in uses)
    assert any(u.startswith("actions/cache@") for u in uses)
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "orch init" in runs and "orch tick --wait" in runs
    assert "pip install orch\n" not in runs  # the PyPI name `orch` is another project
    assert flow["env"]["ORCH_PACKAGE"].endswith("'orch-agents==0.1.0' }}")
    assert flow["env"]["CLAUDE_CODE_VERSION"].count(".") == 2  # pinned
    assert "GITHUB_TOKEN" in text and "starts no workflow" in text  # the fallback's limit
