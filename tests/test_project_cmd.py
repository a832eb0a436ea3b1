"""`orch project add|list|remove` and ticking several projects (SPEC §3, §5)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from orch.status import Status
from tests.helpers import Repo, git, make_repo, run_orch, tick_actions
from tests.run_helpers import wait_for
from tests.tick_helpers import LocalProject, local_project


def global_projects(env: dict[str, str]) -> list[str]:
    path = Path(env["ORCH_HOME"]) / "config.yml"
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    return list((data or {}).get("projects") or [])


def test_add_list_remove_a_checkout(tmp_path: Path, orch_env: dict[str, str]) -> None:
    repo = make_repo(tmp_path, "gadgets")
    (repo.work / ".orch.yml").write_text("store: local\n")

    added = run_orch("project", "add", str(repo.work), cwd=tmp_path, env=orch_env)
    assert (added.code, added.out) == (0, f"local/gadgets  {repo.work}\n"), added
    assert added.err == f"register {repo.work} in {Path(orch_env['ORCH_HOME']) / 'config.yml'}\n"
    again = run_orch("project", "add", str(repo.work), cwd=tmp_path, env=orch_env)
    assert again.err == f"{repo.work} is registered already\n"
    assert global_projects(orch_env) == [str(repo.work)]

    listed = run_orch("project", "list", cwd=tmp_path, env=orch_env)
    assert listed.out == f"local/gadgets\tlocal\t{repo.work}\n"
    as_json = json.loads(run_orch("project", "list", "--json", cwd=tmp_path, env=orch_env).out)
    assert as_json == {
        "schema": 1,
        "projects": [
            {
                "path": str(repo.work),
                "repo": "local/gadgets",
                "store": "local",
                "ok": True,
                "problem": None,
            }
        ],
    }

    dry = run_orch("project", "remove", "local/gadgets", "--dry-run", cwd=tmp_path, env=orch_env)
    assert dry.out == f"would: unregister {repo.work}\n"
    assert global_projects(orch_env) == [str(repo.work)]
    removed = run_orch("project", "remove", "local/gadgets", cwd=tmp_path, env=orch_env)
    assert (removed.code, removed.out) == (0, f"unregister {repo.work}\n")
    assert global_projects(orch_env) == []
    assert repo.work.is_dir()


def test_add_a_url_makes_a_bare_clone(tmp_path: Path, orch_env: dict[str, str]) -> None:
    source = make_repo(tmp_path, "widgets")
    origin = tmp_path / "acme" / "widgets.git"
    origin.parent.mkdir()
    source.origin.rename(origin)
    url = f"file://{origin}"

    done = run_orch("project", "add", url, "--json", cwd=tmp_path, env=orch_env)

    clone = Path(orch_env["ORCH_HOME"]) / "state" / "clones" / "acme" / "widgets.git"
    assert done.code == 0, done
    assert json.loads(done.out)["project"] == {
        "path": str(clone),
        "repo": "acme/widgets",
        "cloned_from": url,
        "registered": True,
    }
    assert git("rev-parse", "--is-bare-repository", cwd=clone).strip() == "true"
    assert git("log", "--format=%s", "main", cwd=clone).strip() == "initial commit"
    assert global_projects(orch_env) == [str(clone)]
    listed = run_orch("project", "list", cwd=tmp_path, env=orch_env)
    assert listed.out == f"acme/widgets\tgithub\t{clone}\n"


def test_add_rejects_what_it_cannot_use(tmp_path: Path, orch_env: dict[str, str]) -> None:
    (tmp_path / "plain").mkdir()
    done = run_orch("project", "add", str(tmp_path / "plain"), cwd=tmp_path, env=orch_env)
    assert (done.code, done.err) == (
        2,
        f"orch: {tmp_path / 'plain'}: not a git repository; run `git init` or clone it first\n",
    )
    bad = run_orch("project", "add", "not a repo", cwd=tmp_path, env=orch_env)
    assert (bad.code, bad.err) == (
        2,
        "orch: not a repo: not a directory, OWNER/REPO or a git URL\n",
    )
    missing = run_orch("project", "remove", "acme/nothing", cwd=tmp_path, env=orch_env)
    assert (missing.code, missing.err) == (
        2,
        "orch: acme/nothing: no registered project by that path or name (registered: none)\n",
    )


def two_projects(tmp_path: Path, env: dict[str, str], max_parallel: int) -> tuple[Repo, Repo]:
    bin_dir = Path(__file__).resolve().parent.parent / "bin"
    config = {
        "router": {"mode": "fixed", "agent": "demo", "fallback_executor": "demo"},
        "agents": {"demo": {"command": [str(bin_dir / "orch-demo-agent")], "output": "json"}},
    }
    repos = []
    for name in ("alpha", "beta"):
        (tmp_path / name).mkdir()
        repo = make_repo(tmp_path / name, name)
        project = local_project(repo, env)
        extra = yaml.safe_dump(config)
        (repo.work / ".orch.yml").write_text((repo.work / ".orch.yml").read_text() + extra)
        project.add_task(f"Task of {name}", "agent:demo", status=Status.ROUTED)
        repos.append(repo)
    home = Path(env["ORCH_HOME"])
    text = (home / "config.yml").read_text()
    (home / "config.yml").write_text(text + f"workflow:\n  max_parallel: {max_parallel}\n")
    return repos[0], repos[1]


def test_tick_walks_every_registered_project_and_max_parallel_holds_across_them(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    env = {**orch_env, "ORCH_DEMO_DELAY": "3"}
    alpha, beta = two_projects(tmp_path, env, max_parallel=1)
    assert global_projects(env) == [str(alpha.work), str(beta.work)]

    done = run_orch("tick", "--json", cwd=tmp_path, env=env)

    rows = tick_actions(done.out)
    assert [(r["project"], r["phase"], r["task"], r["action"]) for r in rows] == [
        ("local/alpha", "dispatch", 1, "dispatched"),
        ("local/beta", "dispatch", 1, "wait"),
    ]
    assert rows[1]["detail"] == "1 of max_parallel 1 agents running on this host"

    second = run_orch("tick", "--json", cwd=tmp_path, env=env)
    assert [(r["project"], r["action"]) for r in tick_actions(second.out)] == [
        ("local/beta", "wait"),
    ]
    alpha_store = local_project_store(alpha)
    assert wait_for(lambda: alpha_store.status(1) is Status.IN_REVIEW, timeout=30)

    third = run_orch("tick", "--json", "--wait", cwd=tmp_path, env=env)
    assert [(r["project"], r["phase"], r["action"]) for r in tick_actions(third.out)] == [
        ("local/beta", "dispatch", "dispatched"),
    ]
    assert local_project_store(beta).status(1) is Status.IN_REVIEW


def local_project_store(repo: Repo) -> LocalProject:
    return LocalProject(repo, {})


def test_a_refused_url_add_leaves_no_clone_behind(tmp_path: Path, orch_env: dict[str, str]) -> None:
    # A checkout already registered as acme/widgets ...
    checkout = make_repo(tmp_path, "mine")
    (checkout.work / ".orch.yml").write_text("gh:\n  repo: acme/widgets\n")
    assert run_orch("project", "add", str(checkout.work), cwd=tmp_path, env=orch_env).code == 0
    # ... then the same OWNER/REPO by URL: refused before anything is cloned.
    source = make_repo(tmp_path, "widgets")
    origin = tmp_path / "acme" / "widgets.git"
    origin.parent.mkdir()
    source.origin.rename(origin)

    refused = run_orch("project", "add", f"file://{origin}", cwd=tmp_path, env=orch_env)

    assert refused.code == 2, refused
    assert "already registered as acme/widgets" in refused.err
    assert not (Path(orch_env["ORCH_HOME"]) / "state" / "clones" / "acme" / "widgets.git").exists()
    assert global_projects(orch_env) == [str(checkout.work)]
