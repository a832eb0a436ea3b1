"""Routing: the pure decision table, then `orch task route` end to end through the real CLI
with strict fake agents, against the local store and against the GitHub emulator."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from orch.route.decision import RouteFacts, decide, needs_llm
from orch.task import markers
from tests.fakes import install_fake_agents, write_scenario
from tests.helpers import Repo, Result, make_repo, run_orch

MODEL_MAP = {
    "simple": {"claude": "haiku", "codex": "gpt-5.1-codex-mini"},
    "medium": {"claude": "sonnet", "codex": "gpt-5.2"},
    "complex": {"claude": "opus", "codex": "gpt-5.3-codex"},
}
BASE = RouteFacts(
    number=7,
    labels=("status:new",),
    agents=("claude", "codex", "opencode"),
    mode="llm",
    installed=frozenset({"claude", "codex", "opencode"}),
    model_map=MODEL_MAP,
    fallback_executor="codex",
    router_agent="claude",
    max_route_attempts=3,
)
ANSWER = {"executor": "codex", "complexity": "complex", "reason": "big refactor"}


def facts(**kw: Any) -> RouteFacts:
    return replace(BASE, **kw)


# --- the decision table -----------------------------------------------------------------

TABLE: list[tuple[str, RouteFacts, tuple[Any, ...]]] = [
    (
        "llm answer",
        facts(llm_answer=ANSWER),
        ("codex", "complex", "gpt-5.3-codex", "llm", "big refactor"),
    ),
    (
        "owner agent label wins over the llm",
        facts(labels=("status:new", "agent:claude"), llm_answer=ANSWER),
        (
            "claude",
            "complex",
            "opus",
            "label",
            "owner set agent:claude; complexity from the LLM router: big refactor",
        ),
    ),
    (
        "owner complexity label wins for the tier",
        facts(labels=("status:new", "complexity:simple"), llm_answer=ANSWER),
        ("codex", "simple", "gpt-5.1-codex-mini", "llm", "big refactor"),
    ),
    (
        "both owner labels",
        facts(labels=("agent:codex", "complexity:medium", "status:new")),
        ("codex", "medium", "gpt-5.2", "label", "owner set agent:codex and complexity:medium"),
    ),
    (
        "empty model_map entry = CLI default",
        facts(llm_answer={**ANSWER, "executor": "opencode"}),
        ("opencode", "complex", None, "llm", "big refactor"),
    ),
    (
        "chosen agent not installed is replaced by the next",
        facts(llm_answer=ANSWER, installed=frozenset({"claude", "opencode"})),
        (
            "opencode",
            "complex",
            None,
            "llm",
            "big refactor (the router chose codex, but codex is not installed; using opencode)",
        ),
    ),
    (
        "chosen agent cooling down is replaced (wrapping around)",
        facts(
            llm_answer={**ANSWER, "executor": "opencode"},
            cooling={"opencode": "usage_limit until 2026-11-21T10:00:00Z"},
        ),
        (
            "claude",
            "complex",
            "opus",
            "llm",
            "big refactor (the router chose opencode, but opencode is cooling down "
            "(usage_limit until 2026-11-21T10:00:00Z); using claude)",
        ),
    ),
    (
        "agent:model cooldown only blocks that model",
        facts(
            llm_answer=ANSWER,
            cooling={"codex:gpt-5.3-codex": "usage_limit until 2026-11-21T10:00:00Z"},
        ),
        (
            "opencode",
            "complex",
            None,
            "llm",
            "big refactor (the router chose codex, but codex:gpt-5.3-codex is cooling down "
            "(usage_limit until 2026-11-21T10:00:00Z); using opencode)",
        ),
    ),
    (
        "first llm failure: stays new",
        facts(llm_error="no_result: garbage"),
        (None, None, None, "llm", "LLM router failed (1 of 3): no_result: garbage"),
    ),
    (
        "third llm failure: round robin",
        facts(route_failures=2, llm_error="no_result: garbage"),
        (
            "codex",
            "medium",
            "gpt-5.2",
            "round_robin",
            "the LLM router failed 3 times (last: no_result: garbage); falling back to round robin: "
            "round robin over claude, codex, opencode",
        ),
    ),
    (
        "router agent not installed: round robin at once",
        facts(installed=frozenset({"codex", "opencode"})),
        (
            "opencode",
            "medium",
            None,
            "round_robin",
            "claude is not installed; falling back to round robin: round robin over codex, opencode",
        ),
    ),
    (
        "round robin is stable by task number",
        facts(mode="round_robin", number=9),
        ("claude", "medium", "sonnet", "round_robin", "round robin over claude, codex, opencode"),
    ),
    (
        "round robin skips disabled agents",
        facts(mode="round_robin", number=9, disabled=("claude",)),
        ("opencode", "medium", None, "round_robin", "round robin over codex, opencode"),
    ),
    ("fixed", facts(mode="fixed"), ("codex", "medium", "gpt-5.2", "fixed", "fixed router: codex")),
    (
        "fixed agent cooling down",
        facts(mode="fixed", cooling={"codex": "auth until 2026-11-21T10:00:00Z"}),
        (
            "opencode",
            "medium",
            None,
            "fixed",
            "fixed router: codex is cooling down (auth until 2026-11-21T10:00:00Z); using opencode",
        ),
    ),
    (
        "no agent at all: needs review",
        facts(mode="round_robin", installed=frozenset()),
        (
            None,
            "medium",
            None,
            "round_robin",
            "no agent available (claude: claude is not installed; codex: codex is not installed; "
            "opencode: opencode is not installed)",
        ),
    ),
    (
        "owner label naming an unknown agent",
        facts(labels=("agent:gpt9", "status:new")),
        (
            None,
            "medium",
            None,
            "label",
            "agent:gpt9 is set but no such agent is configured (configured: claude, codex, opencode)",
        ),
    ),
]


@pytest.mark.parametrize(("name", "given", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_decide(name: str, given: RouteFacts, expected: tuple[Any, ...]) -> None:
    d = decide(given)
    assert (d.agent, d.complexity, d.model, d.mode, d.reason) == expected


def test_needs_llm() -> None:
    assert needs_llm(BASE)
    assert not needs_llm(facts(labels=("agent:codex", "complexity:simple")))
    assert needs_llm(facts(labels=("agent:codex",)))  # still needs a complexity
    assert not needs_llm(facts(route_failures=3))
    assert not needs_llm(facts(mode="round_robin"))
    assert not needs_llm(facts(cooling={"claude": "auth until later"}))


# --- end to end: the real CLI, the local store, strict fake agents -----------------------

ROUTE_PREFIX = ["-p", "--output-format", "json", "--model", "haiku"]


@dataclass
class Proj:
    repo: Repo
    env: dict[str, str]
    bin: Path

    def orch(self, *args: str) -> Result:
        return run_orch(*args, cwd=self.repo.work, env=self.env)

    def scenario(self, data: dict[str, Any]) -> None:
        write_scenario(self.bin / "scenario.json", data)

    def issue(self, number: int) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.repo.work / ".orch" / "local" / "issues" / f"{number}.json").read_text()
        )
        return data

    def markers(self, number: int) -> list[markers.Marker]:
        found = [markers.parse(c["body"]) for c in self.issue(number)["comments"]]
        return [m for m in found if m is not None]


@pytest.fixture
def proj(tmp_path: Path, orch_env: dict[str, str]) -> Proj:
    repo = make_repo(tmp_path)
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    env = {**orch_env, "PATH": f"{bin_dir}:{orch_env['PATH']}", "GH_TOKEN": "ghp_must_not_leak"}
    p = Proj(repo, env, bin_dir)
    assert p.orch("init", "--local").code == 0
    return p


def router_call(answer: str, **extra: Any) -> dict[str, Any]:
    return {
        "expect_argv_prefix": ROUTE_PREFIX,
        "expect_argv_contains": ["--json-schema"],
        "expect_stdin_contains": ["Task #1: Fix the parser"],
        "record": "claude-{n}.json",
        "steps": [{"stdout": answer}],
        **extra,
    }


def envelope(result_text: str, structured: Any = None) -> str:
    data: dict[str, Any] = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "num_turns": 2,
        "result": result_text,
        "session_id": "s",
    }
    if structured is not None:
        data["structured_output"] = structured
    return json.dumps(data) + "\n"


def test_route_llm_codex_complex(proj: Proj) -> None:
    assert proj.orch("task", "add", "Fix the parser", "--body", "It crashes").code == 0
    proj.scenario({"claude": router_call("", steps=[{"stdout_file": "claude-route.json"}])})
    r = proj.orch("task", "route", "1")
    assert (r.code, r.out) == (0, "#1 routed to codex (gpt-5.3-codex, complex): fake router\n"), r
    assert proj.issue(1)["labels"] == ["agent:codex", "complexity:complex", "status:routed"]
    (route,) = proj.markers(1)
    assert route.kind == "route"
    assert route.data == {
        "v": 1,
        "agent": "codex",
        "complexity": "complex",
        "model": "gpt-5.3-codex",
        "reason": "fake router",
        "mode": "llm",
        "llm_failures": 0,
    }
    assert route.text == (
        "**orch** routed this task to 🟢 **codex** · model `gpt-5.3-codex` · complexity `complex` "
        "(llm routing)\n\n> fake router"
    )
    call = json.loads((proj.bin / "claude-0.json").read_text())
    assert not {k for k in call["env"] if k.startswith(("GH_", "GITHUB_"))}
    assert '<untrusted-data source="issue body">\nIt crashes\n</untrusted-data>' in call["stdin"]


def test_router_garbage_three_times_ends_in_round_robin(proj: Proj) -> None:
    proj.orch("task", "add", "Fix the parser")
    garbage = [
        router_call(envelope("sure, codex I guess")),
        router_call(envelope('{"executor": "codex"}')),
        router_call("not json at all\n"),
    ]
    proj.scenario({"claude": garbage})
    first = proj.orch("task", "route", "1")
    assert (first.code, first.out) == (
        1,
        (
            "#1 not routed (still new): LLM router failed (1 of 3): no_result: "
            "no valid router answer in the agent's output\n"
        ),
    ), first
    second = proj.orch("task", "route", "1")
    assert second.out == (
        "#1 not routed (still new): LLM router failed (2 of 3): no_result: "
        "no valid router answer in the agent's output\n"
    ), second
    assert proj.issue(1)["labels"] == ["status:new"]
    third = proj.orch("task", "route", "1")
    assert (third.code, third.out) == (
        0,
        (
            "#1 routed to codex (gpt-5.2, medium): the LLM router failed 3 times (last: no_result: "
            "no valid router answer in the agent's output); falling back to round robin: "
            "round robin over claude, codex, opencode\n"
        ),
    ), third
    assert proj.issue(1)["labels"] == ["agent:codex", "complexity:medium", "status:routed"]
    kinds = [(m.kind, m.data.get("failed"), m.data.get("mode")) for m in proj.markers(1)]
    assert kinds == [("route", True, "llm"), ("route", True, "llm"), ("route", None, "round_robin")]
    assert len(list(proj.bin.glob("claude-*.json"))) == 3


def test_owner_labels_skip_the_llm(proj: Proj) -> None:
    proj.orch("task", "add", "Fix the parser", "--agent", "opencode", "--complexity", "simple")
    proj.scenario({})  # any agent call would exit 97
    r = proj.orch("task", "route", "--json")
    assert r.code == 0, r
    assert json.loads(r.out) == {
        "schema": 1,
        "task": 1,
        "status": "routed",
        "dry_run": False,
        "agent": "opencode",
        "complexity": "simple",
        "model": None,
        "mode": "label",
        "llm_failures": 0,
        "reason": "owner set agent:opencode and complexity:simple",
    }
    assert proj.issue(1)["labels"] == ["agent:opencode", "complexity:simple", "status:routed"]
    assert "the CLI's default model" in proj.markers(1)[0].text


def test_no_agent_is_never_routed(proj: Proj) -> None:
    proj.orch("task", "add", "Fix the parser", "--no-agent")
    proj.scenario({})
    r = proj.orch("task", "route", "1")
    assert (r.code, r.out, r.err) == (
        1,
        "",
        "orch: task #1 has the no-agent label: orch never routes it\n",
    )
    assert proj.orch("task", "route").err == "no new task to route\n"
    assert proj.issue(1)["labels"] == ["no-agent", "status:new"]


def test_no_agent_installed_goes_to_needs_review(proj: Proj, tmp_path: Path) -> None:
    proj.orch("task", "add", "Fix the parser")
    for exe in proj.bin.iterdir():
        if exe.name in ("claude", "codex", "opencode"):
            exe.unlink()
    r = proj.orch("task", "route", "1")
    assert r.code == 1
    assert r.out == (
        "#1 needs_review: claude is not installed; falling back to round robin; "
        "no agent available (claude: claude is not installed; codex: codex is not installed; "
        "opencode: opencode is not installed)\n"
    ), r
    assert proj.issue(1)["labels"] == ["status:needs_review"]
    assert proj.markers(1)[-1].data["status"] == "needs_review"


def test_cooling_router_and_chosen_agent(proj: Proj) -> None:
    proj.orch("task", "add", "Fix the parser")
    # the router itself hits a usage limit: the task stays new, claude cools down
    limit = json.dumps(
        {
            "type": "result",
            "subtype": "success",
            "is_error": True,
            "api_error_status": 429,
            "result": "API Error: Request rejected (429) · Usage limit reached.",
        }
    )
    proj.scenario(
        {"claude": router_call(limit + "\n", steps=[{"stdout": limit + "\n"}, {"exit": 1}])}
    )
    r = proj.orch("task", "route", "1")
    assert r.out == (
        "#1 not routed (still new): LLM router failed (1 of 3): usage_limit: "
        "API Error: Request rejected (429) · Usage limit reached.\n"
    ), r
    listed = proj.orch("cooldown", "list", "--json")
    (cooldown,) = json.loads(listed.out)["cooldowns"]
    assert (cooldown["key"], cooldown["error_class"], cooldown["strikes"]) == (
        "claude",
        "usage_limit",
        1,
    )
    # next route: the router agent is cooling down → round robin without calling it
    r = proj.orch("task", "route", "1")
    assert r.out.startswith(
        "#1 routed to opencode (the CLI's default model, medium): claude is cooling "
        "down (usage_limit until "
    ), r
    assert r.out.endswith("); falling back to round robin: round robin over codex, opencode\n")
    assert len(list(proj.bin.glob("claude-*.json"))) == 1
    assert proj.orch("cooldown", "clear", "claude").out == "cleared claude\n"
    assert proj.orch("cooldown", "list").err == "no agent is cooling down\n"


def test_dry_run_writes_nothing(proj: Proj) -> None:
    proj.orch("task", "add", "Fix the parser")
    proj.scenario({"claude": router_call("", steps=[{"stdout_file": "claude-route.json"}])})
    before = proj.issue(1)
    r = proj.orch("task", "route", "1", "--dry-run")
    assert r.code == 0, r
    assert r.out.splitlines()[-1] == "#1 routed to codex (gpt-5.3-codex, complex): fake router"
    assert [line.split(" {")[0] for line in r.out.splitlines()] == [
        "would: PATCH repos/local/widgets/issues/1",  # agent:codex exists since `orch init`
        "would: POST repos/local/widgets/issues/1/comments",
        "#1 routed to codex (gpt-5.3-codex, complex): fake router",
    ]
    assert '{"labels": ["agent:codex", "complexity:complex", "status:routed"]}' in r.out
    assert proj.issue(1) == before


# --- end to end against the GitHub emulator ---------------------------------------------


def test_route_against_the_emulator(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Any, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    env = {**gh_env, "PATH": f"{bin_dir}:{gh_env['PATH']}"}
    write_scenario(
        bin_dir / "scenario.json",
        {
            "claude": {
                "expect_argv_prefix": ROUTE_PREFIX,
                "record": "claude.json",
                "expect_stdin_contains": ["Task #1: Fix the parser"],
                "steps": [{"stdout_file": "claude-route.json"}],
            }
        },
    )
    emulator.add_issue("Fix the parser", "It crashes", labels=["status:new"])
    emulator.reset_log()
    r = run_orch("task", "route", "1", cwd=gh_repo.work, env=env)
    assert (r.code, r.out) == (0, "#1 routed to codex (gpt-5.3-codex, complex): fake router\n"), r
    assert emulator.labels_of(1) == ["agent:codex", "complexity:complex", "status:routed"]
    (comment,) = emulator.comments(1)
    marker = markers.parse(comment["body"])
    assert marker is not None and marker.data["model"] == "gpt-5.3-codex"
    assert "model `gpt-5.3-codex`" in comment["body"]
    call = json.loads((bin_dir / "claude.json").read_text())
    assert "GH_ENTERPRISE_TOKEN" not in call["env"]
    assert emulator.token not in json.dumps(call["env"])
    # one read of the issue and its comments, labels created once (then cached), ONE
    # label write, one comment
    assert emulator.log_lines() == [
        "GET /repos/acme/widgets/issues/1 -> 200",
        "GET /repos/acme/widgets/issues/1/comments?per_page=100 -> 200",
        "GET /user -> 200",  # who orch is (its markers count), once, then cached
        "GET /repos/acme/widgets/labels?per_page=100 -> 200",
        "POST /repos/acme/widgets/labels -> 201",
        "POST /repos/acme/widgets/labels -> 201",
        "PATCH /repos/acme/widgets/issues/1 -> 200",
        "POST /repos/acme/widgets/issues/1/comments -> 201",
    ]


def test_route_after_init_costs_five_requests(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Any, tmp_path: Path
) -> None:
    """`orch init` creates the agent:/complexity:/model: labels, so routing never lists or
    creates labels: read the issue and its comments, one label write, one comment."""
    bin_dir = tmp_path / "bin"
    install_fake_agents(bin_dir)
    env = {**gh_env, "PATH": f"{bin_dir}:{gh_env['PATH']}"}
    write_scenario(
        bin_dir / "scenario.json",
        {
            "claude": {
                "expect_argv_prefix": ROUTE_PREFIX,
                "steps": [{"stdout_file": "claude-route.json"}],
            }
        },
    )
    assert run_orch("init", cwd=gh_repo.work, env=env).code == 0
    emulator.add_issue("Fix the parser", "It crashes", labels=["status:new"])
    emulator.reset_log()
    r = run_orch("task", "route", "1", cwd=gh_repo.work, env=env)
    assert r.code == 0, r
    assert emulator.labels_of(1) == ["agent:codex", "complexity:complex", "status:routed"]
    assert emulator.log_lines() == [
        "GET /repos/acme/widgets/issues/1 -> 200",
        "GET /repos/acme/widgets/issues/1/comments?per_page=100 -> 200",
        "GET /user -> 200",  # who orch is (its markers count), once, then cached
        "PATCH /repos/acme/widgets/issues/1 -> 200",
        "POST /repos/acme/widgets/issues/1/comments -> 201",
    ]


def test_routing_a_routed_task_again_ignores_the_routers_own_labels(proj: Proj) -> None:
    proj.orch("task", "add", "Fix the parser")
    again = {"executor": "claude", "complexity": "simple", "reason": "small after all"}
    proj.scenario(
        {
            "claude": [
                router_call("", steps=[{"stdout_file": "claude-route.json"}]),
                router_call(envelope(json.dumps(again), again)),
            ]
        }
    )
    assert proj.orch("task", "route", "1").code == 0
    r = proj.orch("task", "route", "1")
    assert (r.code, r.out) == (0, "#1 routed to claude (haiku, simple): small after all\n"), r
    assert proj.issue(1)["labels"] == ["agent:claude", "complexity:simple", "status:routed"]
    assert [m.data["agent"] for m in proj.markers(1)] == ["codex", "claude"]


def test_no_agent_available_against_the_emulator(
    gh_repo: Repo, gh_env: dict[str, str], emulator: Any, tmp_path: Path
) -> None:
    python_dir = str(Path(sys.executable).parent)
    env = {**gh_env, "PATH": f"{python_dir}:/usr/bin:/bin"}  # no agent CLI at all
    emulator.add_issue("Fix the parser", "It crashes", labels=["status:new"])
    emulator.reset_log()
    r = run_orch("task", "route", "1", cwd=gh_repo.work, env=env)
    assert r.code == 1, r
    assert r.out.startswith(
        "#1 needs_review: claude is not installed; falling back to round robin; "
        "no agent available (claude: claude is not installed; "
    ), r
    assert emulator.labels_of(1) == ["status:needs_review"]
    (comment,) = emulator.comments(1)
    marker = markers.parse(comment["body"])
    assert marker is not None
    assert (marker.kind, marker.data["agent"], marker.data["status"]) == (
        "route",
        None,
        "needs_review",
    )
    assert emulator.log_lines() == [
        "GET /repos/acme/widgets/issues/1 -> 200",
        "GET /repos/acme/widgets/issues/1/comments?per_page=100 -> 200",
        "GET /user -> 200",  # who orch is (its markers count), once, then cached
        "PATCH /repos/acme/widgets/issues/1 -> 200",
        "POST /repos/acme/widgets/issues/1/comments -> 201",
    ]
