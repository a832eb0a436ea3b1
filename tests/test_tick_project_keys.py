"""Two local-store checkouts with the same directory name get distinct project keys, so
their state (locks, sidecars, snapshot cache, worktrees) never collides."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.helpers import make_repo, run_orch


def test_second_local_checkout_with_the_same_name_gets_its_own_key(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_repo(tmp_path / "a")
    second = make_repo(tmp_path / "b")

    one = run_orch("init", "--local", cwd=first.work, env=orch_env)
    two = run_orch("init", "--local", cwd=second.work, env=orch_env)

    assert one.out.splitlines()[0] == f"project local/widgets at {first.work} (store: local)"
    assert two.out.splitlines()[0] == f"project local/widgets-2 at {second.work} (store: local)"
    config = yaml.safe_load((second.work / ".orch.yml").read_text())
    assert config == {"store": "local", "gh": {"repo": "local/widgets-2"}}
    assert run_orch("task", "add", "In A", cwd=first.work, env=orch_env).code == 0
    assert run_orch("task", "add", "In B", cwd=second.work, env=orch_env).code == 0

    ticked = run_orch("tick", "--json", "--only", "intake", cwd=first.work, env=orch_env)

    assert ticked.code == 0, ticked
    repos = Path(orch_env["ORCH_HOME"]) / "state" / "repos" / "local"
    assert sorted(p.name for p in repos.iterdir()) == ["widgets", "widgets-2"]
    listed = run_orch("task", "list", "--json", cwd=second.work, env=orch_env)
    assert '"In B"' in listed.out and '"In A"' not in listed.out
    # init again keeps the key
    again = run_orch("init", "--local", cwd=second.work, env=orch_env)
    assert again.out.splitlines()[0] == f"project local/widgets-2 at {second.work} (store: local)"


def test_project_add_refuses_a_key_already_registered(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_repo(tmp_path / "a")
    second = make_repo(tmp_path / "b")
    assert run_orch("init", "--local", cwd=first.work, env=orch_env).code == 0
    (second.work / ".orch.yml").write_text("store: local\n")

    added = run_orch("project", "add", str(second.work), cwd=tmp_path, env=orch_env)

    assert added.code == 2, added
    assert added.err == (
        f"orch: {second.work}: {first.work} is already registered as local/widgets and two "
        f"projects cannot share a key; set a distinct gh.repo in {second.work / '.orch.yml'} "
        f"(e.g. local/widgets-2 for a local store) or `orch project remove {first.work}`\n"
    )
    projects = yaml.safe_load((Path(orch_env["ORCH_HOME"]) / "config.yml").read_text())
    assert projects == {"projects": [str(first.work)]}
