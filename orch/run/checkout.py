"""The user's checkout is sacred (SPEC §8): notice when an attempt changed it.

Agents work in their own worktree; nothing stops a careless one from writing in the
main checkout too. `record()` takes the checkout's HEAD, branch and
`git status --porcelain` (with a hash of each listed file, so a second edit of a file
that was already dirty shows) before an attempt; `changes()` compares two records. A
change makes the attempt end `needs_review` (`hold_attempt`), and orch never pushes,
resets or deletes anything in the main checkout: a human looks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from orch.io import git
from orch.run.decision import Decision
from orch.status import Status
from orch.task.attempt import AttemptDir

SHOWN = 10  # paths named in the reason; the rest are counted


@dataclass(frozen=True)
class CheckoutState:
    head: str | None
    branch: str | None
    files: tuple[tuple[str, str], ...]  # (porcelain line, content hash) per listed path


def record(root: Path) -> CheckoutState:
    """The main checkout's HEAD, branch and dirty files right now."""
    files = []
    for line in git.status_porcelain(root).splitlines():
        path = line[3:].split(" -> ")[-1].strip().strip('"')
        files.append((line, _digest(root / path)))
    return CheckoutState(git.rev_parse(root, "HEAD"), git.current_branch(root), tuple(files))


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else ""
    except OSError:
        return ""


def changes(before: CheckoutState, after: CheckoutState) -> list[str]:
    """What changed between two records, as short human items (pure)."""
    found: list[str] = []
    if before.branch != after.branch:
        found.append(f"branch {before.branch or '(detached)'} -> {after.branch or '(detached)'}")
    if before.head != after.head:
        found.append(f"HEAD {str(before.head)[:12]} -> {str(after.head)[:12]}")
    old, new = set(before.files), set(after.files)
    paths = {line[3:] for line, _ in old ^ new}
    found += sorted(paths)
    return found


def outside_reason(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN]) + (
        f" (and {len(items) - SHOWN} more)" if len(items) > SHOWN else ""
    )
    return f"the agent wrote outside its worktree: {shown}"


def hold_attempt(adir: AttemptDir, items: list[str]) -> None:
    """Rewrite the attempt's decision: `needs_review`, no pull request, the reason said."""
    result = adir.read(adir.result) or {}
    if "decision" not in result:
        return
    decision = Decision.from_json(result["decision"])
    reason = outside_reason(items)
    held = replace(
        decision,
        status=Status.NEEDS_REVIEW,
        trigger="failure",
        reason=reason,
        wants_pr=False,
        reroute_to=None,
        warnings=(*decision.warnings, reason),
    )
    adir.write(adir.result, {**result, "decision": held.to_json(), "outside_worktree": items})
