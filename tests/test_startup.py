"""Start-up (issue #12): a bare `orch` call never imports pydantic, `orch --version` not
even rich (tables import it when they draw), and typer still checks the values that need
checking (orch.commands.startup)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_orch

PROBE = """
import sys
from pathlib import Path
from orch.cli import main
sys.argv = ["orch", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("pydantic" in sys.modules, file=sys.stderr)
print("rich" in sys.modules, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args", [["--version"], ["task", "list", "--help"], ["tick", "--help"], ["--help"]]
)
def test_a_bare_call_does_not_import_pydantic(args: list[str], orch_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=orch_env, capture_output=True, text=True
    )
    pydantic, rich = done.stderr.strip().splitlines()[-2:]
    assert pydantic == "False", done.stderr
    if args == ["--version"]:
        assert rich == "False", done.stderr


def test_values_that_need_checking_are_still_checked(
    orch_env: dict[str, str], tmp_path: Path
) -> None:
    # A fresh process: start-up is what this checks (orch.commands.startup).
    done = run_orch("log", "-n", "abc", cwd=tmp_path, env=orch_env, subprocess=True)
    assert done.code == 2
    assert done.err.strip().splitlines()[-1] == (
        "Error: Invalid value for '-n' / '--lines': Input should be a valid integer, unable to "
        "parse string as an integer"
    )
