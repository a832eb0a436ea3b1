"""`plan` tasks (SPEC §2.1 `plan`, §2.2 "plan task created children").

A task labelled `plan` runs with the plan prompt (`prompts/plan.md`, overridable from
`workflow.prompts_dir`) and the plan result schema (`children: [{title, body,
complexity}]`, orch.agents.result). After a `done` plan result orch creates one task per
child, like `orch task add --parent N` (a `Parent: #N` line in the body, `status:new`, the
child's `complexity:` label when given), posts the list on the parent and sets the parent
`blocked` (trigger `plan`); the tick's rejoin phase routes it again once every child is
done. A plan result with no children goes to `needs_review` (orch.run.decision).

Publishing the children is idempotent: each created child is recorded in the attempt's
publish.json before the next one, so an interrupted publish never creates one twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import labels as L
from orch import taskid
from orch.agents.prompt import SYSTEM_TEMPLATE, finished, render_template, template_text, variables
from orch.agents.result import schema_for, validate_children
from orch.store.internal import create_internal
from orch.task import markers
from orch.task.history import new_task_labels, post_marker
from orch.task.ops import with_parent

if TYPE_CHECKING:
    from orch.agents.prompt import PromptContext, Prompts
    from orch.store.base import Store
    from orch.task.attempt import AttemptDir

PLAN_TEMPLATE = "plan.md"


def build_plan_prompts(ctx: PromptContext, prompts_dir: str | Path | None = None) -> Prompts:
    """The system prompt with the plan result schema, and the plan message."""

    values = variables(ctx)
    values["result_schema"] = json.dumps(schema_for("plan"), indent=1, sort_keys=True)
    system = render_template(template_text(SYSTEM_TEMPLATE, prompts_dir), values)
    message = render_template(template_text(PLAN_TEMPLATE, prompts_dir), values)
    return finished(system, message)


def child_body(body: str, parent: int) -> str:
    """A sub-issue's body: the child's text and the `Parent: #N` line."""

    return with_parent(body, parent)


def child_labels(child: dict[str, Any]) -> list[str]:

    return new_task_labels(complexity=child.get("complexity") or None)


def list_text(parent: int, created: Sequence[tuple[int, str]]) -> str:
    """The comment posted on the parent (pure)."""
    lines = [
        f"**orch**: plan for {taskid.ref(parent)}: created {len(created)} sub-issue(s); "
        "this task waits (`blocked`) until they are all done."
    ]
    lines += [f"- [ ] {taskid.ref(number)} {title}" for number, title in created]
    return "\n".join(lines)


def publish_children(
    store: Store,
    adir: AttemptDir,
    parent: int,
    result: dict[str, Any],
    state: dict[str, Any],
    ensure_labels: Callable[[list[str]], object] | None,
) -> dict[str, Any]:
    """Create the plan's children (those not created yet) and post the list on the parent."""

    agent_result = (result.get("outcome") or {}).get("result") or {}
    children = validate_children(agent_result.get("children"))
    created: list[list[Any]] = [list(c) for c in state.get("children") or []]
    for child in children[len(created) :]:
        labels = child_labels(child)
        body = child_body(child["body"], parent)
        if taskid.is_internal(parent):  # an internal plan's children stay internal
            issue = create_internal(store, child["title"], body, labels)
        else:
            if ensure_labels:
                ensure_labels([n for n in labels if L.is_orch_label(n)])
            issue = store.create_issue(child["title"], body, labels)
        created.append([issue.number, issue.title])
        state = adir.record_publish(children=created)
    pairs = [(int(n), str(t)) for n, t in created]
    post_marker(
        store,
        parent,
        "status",
        {
            "from": "in_progress",
            "to": "blocked",
            "reason": f"plan: created {len(pairs)} sub-issue(s)",
            "children": [n for n, _ in pairs],
        },
        list_text(parent, pairs),
        comments=[],
    )
    return adir.record_publish(children=created, children_posted=True)


def already_planned(comments: Sequence[Any], logins: frozenset[str]) -> bool:
    """True when an earlier attempt of this task created its sub-issues (its status note
    lists `children`): after the rejoin the task runs as an ordinary task."""

    for comment in comments:
        marker = markers.orch_marker(comment, logins)
        if marker and marker.kind == "status" and marker.data.get("children"):
            return True
    return False
