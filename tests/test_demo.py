"""`orch demo`: offline, no API key, to in_review in well under a minute (SPEC §11)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from tests.helpers import git, run_orch


def test_demo_ticks_a_task_to_review_and_says_where_to_look(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    base = tmp_path / "demo"
    env = {k: v for k, v in orch_env.items() if not k.startswith("GIT_")}
    began = time.monotonic()

    done = run_orch("demo", "--dir", str(base), cwd=tmp_path, env=env, timeout=60)

    elapsed = time.monotonic() - began
    assert done.code == 0, done
    assert elapsed < 60
    home, checkout = base / "orch-home", base / "widgets"
    origin = base / "widgets-origin.git"
    branch = "orch/1-add-a-greeting-note"
    out = re.sub(r"pid \d+", "pid N", done.out)
    out = re.sub(r"done in [0-9.]+s", "done in Ns", out)
    assert out.splitlines() == [
        f"1. create a git repository {checkout} with a bare origin {origin}",
        f"2. orch init --local (config and state in {home}; your own projects are untouched)",
        '3. orch task add "Add a greeting note"  ->  task #1 (status new)',
        "4. orch tick --wait",
        "     route: #1 routed (demo (default model, medium): fixed router: demo)",
        "     dispatch: #1 dispatched (supervisor pid N, agent demo)",
        "     task #1 is now in_review",
        f"done in Ns: task #1 is in_review, branch {branch}, pull request #2 (local store)",
        "where to look:",
        f"  the change               git -C {checkout} diff main..{branch}",
        f"  the worktree             {home}/state/worktrees/local/widgets/1-add-a-greeting-note",
        f"  the pushed branch        git -C {origin} log --oneline {branch}",
        f"  the task and its result  ORCH_HOME={home} orch --project {checkout} task get 1",
        f"  the agent's output       {home}/state/repos/local/widgets/tasks/1/attempts/1",
        f"  the tick log             {home}/state/logs/orch.log",
        f"  clean up                 rm -rf {base}",
    ]
    assert done.err == ""
    # The change is real: committed on the task branch and pushed to the bare origin.
    files = git("ls-tree", "-r", "--name-only", branch, cwd=origin).split()
    assert files == ["README.md", "notes/task-1.md"]
    # The user's own orch home was never touched.
    assert not (Path(orch_env["ORCH_HOME"]) / "config.yml").exists()
    # The commands it points to work.
    shown = run_orch(
        "--project",
        str(checkout),
        "task",
        "get",
        "1",
        "--json",
        cwd=tmp_path,
        env={**env, "ORCH_HOME": str(home)},
    )
    assert json.loads(shown.out)["task"]["status"] == "in_review"


def test_demo_refuses_a_directory_that_is_not_empty(
    tmp_path: Path, orch_env: dict[str, str]
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    done = run_orch("demo", "--dir", str(tmp_path / "busy"), cwd=tmp_path, env=orch_env)
    assert (done.code, done.out) == (1, "")
    assert done.err == (
        f"orch: {tmp_path / 'busy'} is not empty; pass an empty or new directory with --dir\n"
    )
