"""Parent/child view of tasks (`orch task tree`): sub-issues name their parent with a
`Parent: #N` line (orch.task.ops.parent_of). Pure: builds the forest from issues."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orch import labels as L
from orch import taskid
from orch.store.base import Issue
from orch.task.ops import parent_of


@dataclass
class Node:
    issue: Issue
    children: list[Node] = field(default_factory=list)

    @property
    def status(self) -> str:
        found = L.statuses_in(self.issue.labels)
        if len(found) == 1:
            return found[0].value
        return "closed" if self.issue.state == "closed" and not found else "?"

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.issue.number,
            "title": self.issue.title,
            "state": self.issue.state,
            "status": self.status,
            "children": [c.to_json() for c in self.children],
        }


def build(issues: Iterable[Issue], root: int | None = None) -> list[Node]:
    """The forest of tasks (parents before children, by number); only `root`'s tree if given."""

    ordered = sorted(issues, key=lambda i: (taskid.is_internal(i.number), abs(i.number)))
    nodes = {i.number: Node(i) for i in ordered}  # issues by number, then internal tasks
    tops: list[Node] = []
    for number, node in nodes.items():
        parent = parent_of(node.issue)
        if parent is not None and parent in nodes and parent != number:
            nodes[parent].children.append(node)
        else:
            tops.append(node)
    if root is not None:
        return [nodes[root]] if root in nodes else []
    return tops


def render(nodes: list[Node]) -> list[str]:
    lines: list[str] = []

    def walk(node: Node, prefix: str, branch: str) -> None:
        lines.append(
            f"{prefix}{branch}{taskid.ref(node.issue.number)}  {node.status}  {node.issue.title}"
        )
        deeper = prefix + ("" if not branch else ("   " if branch == "└─ " else "│  "))
        for index, child in enumerate(node.children):
            walk(child, deeper, "└─ " if index == len(node.children) - 1 else "├─ ")

    for node in nodes:
        walk(node, "", "")
    return lines
