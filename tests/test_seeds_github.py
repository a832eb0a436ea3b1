"""`orch chat` and `orch prune` against the GitHub emulator with the real gh: what they
cost in requests, and that the chat agent never gets a GitHub token."""

from __future__ import annotations

import json
from pathlib import Path

from tests.emulator.fixtures import write_orch_config
from tests.emulator.server import Emulator
from tests.fakes import install_fake_agents, write_scenario
from tests.helpers import Repo, run_orch

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"  # this checkout's templates


def test_chat_and_prune_cost_one_request_each(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    write_orch_config(gh_repo.work, emulator, extra={"workflow": {"prompts_dir": str(PROMPTS)}})
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    env = {**gh_env, "PATH": f"{bin_dir}:{gh_env['PATH']}"}

    def orch(*args: str):  # type: ignore[no-untyped-def]
        emulator.reset_log()
        return run_orch(*args, cwd=gh_repo.work, env=env)

    assert orch("init").code == 0
    assert orch("task", "add", "Fix login").code == 0
    assert orch("task", "add", "Add dark mode").code == 0
    answer = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "Two tasks wait.",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    write_scenario(
        bin_dir / "scenario.json",
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [{"stdout": json.dumps(answer) + "\n"}],
            }
        },
    )

    chatted = orch("chat", "what is waiting?")

    assert (chatted.code, chatted.out) == (0, "Two tasks wait.\n"), chatted
    assert emulator.count() == 1
    call = json.loads((bin_dir / "calls" / "claude-0.json").read_text())
    assert (
        "#1 [new] agent: - — Fix login" in call["stdin"]
        and "#2 [new] agent: - — Add dark mode" in call["stdin"]
    )
    assert not {"GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN"} & set(call["env"])
    assert emulator.token not in json.dumps(call)

    pruned = orch("prune", "--dry-run")
    assert pruned.code == 0, pruned
    assert emulator.count() == 1
