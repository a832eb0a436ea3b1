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
    assert "<!-- test-command -->\n```sh\npip install -e '.[test]' && python -m pytest\n```" in readme
