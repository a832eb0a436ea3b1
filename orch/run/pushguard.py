"""The last look before a push (SPEC §8): nothing secret leaves in git.

Before orch pushes a task's branch it reads what the push would send (the commits on the
branch that are neither on the base nor already on the remote's copy of the branch) and
scans each commit's message, its author and committer fields, and the lines it adds,
with the redactor's secret shapes and the values of the secret environment variables
(orch.io.redact: one definition of what a secret looks like). A finding names the commit
and `file:line` and the kind of secret, never the secret itself.

Why not `detect-secrets`: measured with 1.5.0, its GitHub, AWS, private-key and OpenAI
plugins miss `github_pat_`, `sk-ant-` and `sk-proj-` keys (3 of the 9 kinds orch must
stop), and importing it takes over a second; the redactor already knows all nine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from orch.io import git
from orch.io.redact import secret_kinds

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
SHOWN = 5  # findings named in the reason; the rest are counted


@dataclass(frozen=True)
class Finding:
    commit: str  # the commit's sha
    where: str  # "commit message", "author/committer", or "path:line"
    kinds: tuple[str, ...]

    def line(self) -> str:
        return f"{' and '.join(self.kinds)} in {self.where} of commit {self.commit[:12]}"


def added_lines(patch: str) -> list[tuple[str, int, str]]:
    """(path, line number in the new file, text) of every line a `--unified=0` patch
    adds (pure)."""
    found: list[tuple[str, int, str]] = []
    path, number, header = "", 0, False
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            path, header = "", True
        elif header and line.startswith("+++ "):
            target = line[4:].strip().strip('"')
            path = "" if target == "/dev/null" else target.removeprefix("b/")
        elif line.startswith("@@"):
            header = False
            match = _HUNK.match(line)
            number = int(match.group(1)) if match else 0
        elif not header and path and line.startswith("+"):
            found.append((path, number, line[1:]))
            number += 1
    return found


def findings_in(
    sha: str, people: str, message: str, patch: str, values: Iterable[str]
) -> list[Finding]:
    """What one commit would leak (pure): its message, its people fields, its added lines."""
    values = tuple(values)
    found: list[Finding] = []
    for where, text in (("commit message", message), ("author/committer", people)):
        kinds = secret_kinds(text, values)
        if kinds:
            found.append(Finding(sha, where, tuple(kinds)))
    lines = added_lines(patch)
    by_file: dict[str, list[tuple[int, str]]] = {}
    for path, number, text in lines:
        by_file.setdefault(path, []).append((number, text))
    for path, rows in by_file.items():
        if not secret_kinds("\n".join(text for _, text in rows), values):
            continue  # the common case: one scan per file
        for number, text in rows:
            # a PEM block's BEGIN line is enough: the redactor's shape allows a cut tail
            kinds = secret_kinds(text, values)
            if kinds:
                found.append(Finding(sha, f"{path}:{number}", tuple(kinds)))
    return found


def scan(worktree: Path, base: str, branch: str, values: Iterable[str]) -> list[Finding]:
    """Findings in every commit a push of `branch` from `worktree` would send."""
    values = tuple(values)
    found: list[Finding] = []
    for sha in git.unpushed_commits(worktree, base, branch):
        people, message = git.commit_fields(worktree, sha)
        found += findings_in(sha, people, message, git.commit_patch(worktree, sha), values)
    return found


def held_reason(findings: list[Finding], number: int) -> str:
    """The needs_review reason for a push the scan stopped (names places, never secrets)."""
    shown = "; ".join(f.line() for f in findings[:SHOWN])
    more = f" (and {len(findings) - SHOWN} more)" if len(findings) > SHOWN else ""
    return (
        f"nothing was pushed: secrets found in the branch: {shown}{more}; remove them from "
        f"the branch's history (amend or rebase the commits), then run "
        f"`orch task run --publish-only {number}`"
    )
