"""`orch commit`: the working tree's changes as logical commits with Conventional Commits
messages. Nothing here prints or prompts (the command reviews the drafts).

Changes (staged, unstaged and untracked, from `git status`) are grouped by path: files in
a folder by their top folder, files at the top by kind (documentation, the rest). Each
group gets a message drafted by the chat agent (orch.assist.chat.choice: the sticky `/agent`
and `/model`, default the router's) from its file list and its diff, capped at
`commit.max_diff_bytes`, with the prompt `prompts/commit_message.md`; a draft that is not
a Conventional Commits subject, or no agent at all (one warning), leaves the heuristic
message (`heuristic_message()`, pure). `-m` is one commit of everything with that
message. Each group is committed alone (`git commit -- PATHS`): changes of other groups
stay as they were. Every git command goes through orch.io.git, with the user's identity and
hooks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from orch.agents import ask
from orch.agents.prompt import render_template, template_text, untrusted_block
from orch.assist.chat import choice
from orch.clock import Clock
from orch.config.model import Config
from orch.errors import OrchError
from orch.io import git
from orch.paths import Paths

CC_TYPES = (
    "feat",
    "fix",
    "docs",
    "style",
    "refactor",
    "perf",
    "test",
    "build",
    "ci",
    "chore",
    "revert",
)
CC_SUBJECT = re.compile(r"^(" + "|".join(CC_TYPES) + r")(\([^()\s]+\))?!?: \S.*$")
SUBJECT_MAX = 72
TEMPLATE = "commit_message.md"
DOC_SUFFIXES = (".md", ".rst", ".adoc")
DOC_NAMES = ("README", "CHANGELOG", "CHANGES", "LICENSE", "CONTRIBUTING", "SECURITY", "AUTHORS")
BUILD_NAMES = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "Makefile",
    "package.json",
    "Cargo.toml",
    "go.mod",
    "requirements.txt",
    "Dockerfile",
    "justfile",
)
ROOT = "(top)"


@dataclass(frozen=True)
class Change:
    code: str  # git status XY
    path: str
    original: str | None = None  # the old path of a rename or copy

    @property
    def kind(self) -> str:
        if self.code == "??" or "A" in self.code:
            return "added"
        if "D" in self.code:
            return "deleted"
        if "R" in self.code:
            return "renamed"
        return "modified"

    def line(self) -> str:
        moved = f" (from {self.original})" if self.original else ""
        return f"- {self.kind} {self.path}{moved}"


@dataclass(frozen=True)
class Group:
    key: str  # the top folder, "docs" or "(top)"
    changes: tuple[Change, ...]

    @property
    def paths(self) -> list[str]:
        """Every path the commit covers (a rename's old path too)."""
        out: list[str] = []
        for change in self.changes:
            out += [change.path] + ([change.original] if change.original else [])
        return list(dict.fromkeys(out))


@dataclass(frozen=True)
class Draft:
    group: Group
    message: str
    source: str  # "agent" | "heuristic" | "given"

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "source": self.source,
            "paths": self.group.paths,
            "group": self.group.key,
        }


@dataclass(frozen=True)
class Plan:
    drafts: tuple[Draft, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Committed:
    sha: str
    message: str
    paths: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "subject": self.message.splitlines()[0], "paths": list(self.paths)}


# --- pure ------------------------------------------------------------------------------


def group_key(path: str) -> str:
    parts = PurePosixPath(path).parts
    if len(parts) > 1:
        return parts[0]
    return "docs" if _is_doc(path) else ROOT


def group_changes(changes: list[Change]) -> list[Group]:
    """Changes grouped by path, groups in first-seen order of a sorted path list (pure)."""
    groups: dict[str, list[Change]] = {}
    for change in sorted(changes, key=lambda c: c.path):
        groups.setdefault(group_key(change.path), []).append(change)
    return [Group(key, tuple(items)) for key, items in groups.items()]


def heuristic_message(group: Group) -> str:
    """A Conventional Commits subject from the paths and kinds of change alone (pure)."""
    paths = [c.path for c in group.changes]
    kinds = {c.kind for c in group.changes}
    if group.key in ("docs", "doc") or all(_is_doc(p) for p in paths):
        kind = "docs"
    elif group.key in ("tests", "test") or all(_is_test(p) for p in paths):
        kind = "test"
    elif group.key == ".github" and all("/workflows/" in p for p in paths):
        kind = "ci"
    elif all(PurePosixPath(p).name in BUILD_NAMES for p in paths):
        kind = "build"
    elif kinds == {"added"}:
        kind = "feat"
    else:
        kind = "chore"
    name = re.sub(r"[^\w.-]+", "-", group.key).strip("-")
    scope = (
        "" if group.key in (ROOT, "docs", "doc", "tests", "test", kind) or not name else f"({name})"
    )
    verb = (
        {"added": "add", "deleted": "remove", "renamed": "rename"}.get(next(iter(kinds)), "update")
        if len(kinds) == 1
        else "update"
    )
    names = [PurePosixPath(p).name for p in paths]
    what = ", ".join(names) if len(names) <= 3 else f"{len(names)} files"
    subject = f"{kind}{scope}: {verb} {what}"
    if len(subject) > SUBJECT_MAX:
        subject = f"{kind}{scope}: {verb} {len(names)} file{'s' if len(names) > 1 else ''}"
    return subject


def clean_message(text: str) -> str | None:
    """The agent's answer as a commit message, or None when its subject is not a
    Conventional Commits subject (pure). Drops a code fence, quotes and blank edges."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    lines = [line for line in lines if not line.startswith("```")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    subject = lines[0].strip().strip("`\"'").strip()
    if not CC_SUBJECT.match(subject) or len(subject) > 100:
        return None
    body = "\n".join(lines[1:]).strip()
    return subject + (f"\n\n{body}" if body else "")


def capped(text: str, limit: int) -> tuple[str, bool]:
    """`text` cut to at most `limit` bytes of UTF-8 (on a character boundary) (pure)."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text, False
    return raw[:limit].decode("utf-8", errors="ignore"), True


def _is_doc(path: str) -> bool:
    name = PurePosixPath(path).name
    return (
        name.endswith(DOC_SUFFIXES)
        or name.split(".")[0].upper() in DOC_NAMES
        or path.startswith("docs/")
    )


def _is_test(path: str) -> bool:
    name = PurePosixPath(path).name
    return (
        name.startswith("test_") or "_test." in name or ".test." in name or "/tests/" in f"/{path}"
    )


# --- git and the agent -----------------------------------------------------------------


def changes(root: Path) -> list[Change]:
    return [Change(code, path, original) for code, path, original in git.status_entries(root)]


def group_diff(root: Path, group: Group, limit: int) -> tuple[str, bool]:
    """The group's diff since HEAD, untracked files shown whole, capped at `limit` bytes."""
    untracked = {c.path for c in group.changes if c.code == "??"}
    tracked = [p for p in group.paths if p not in untracked]
    parts = [git.diff_worktree(root, tracked)] if tracked else []
    for change in group.changes:
        if change.code == "??":
            parts.append(_new_file(root, change.path, limit))
    return capped("".join(parts), limit)


def _new_file(root: Path, path: str, limit: int) -> str:
    try:
        data = (root / path).read_bytes()[: limit + 1]
    except OSError:
        return f"new file {path} (unreadable)\n"
    if b"\0" in data[:8000]:
        return f"new file {path} (binary)\n"
    text = data.decode("utf-8", errors="replace")
    return f"new file {path}\n" + "".join(f"+{line}\n" for line in text.splitlines())


def commit_prompt(config: Config, group: Group, diff: str, truncated: bool, limit: int) -> str:
    values = {
        "count": len(group.changes),
        "files": "\n".join(c.line() for c in group.changes),
        "diff": untrusted_block("diff", diff, cap=limit + 1000) or "(no textual diff)",
        "truncated": "yes" if truncated else "",
        "max_bytes": limit,
    }
    return render_template(template_text(TEMPLATE, config.workflow.prompts_dir), values)


def plan(
    paths: Paths,
    clock: Clock,
    config: Config,
    root: Path,
    *,
    use_agent: bool = True,
    message: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Plan:
    """The commits to make, with their drafted messages (reads git; asks the agent)."""
    found = changes(root)
    if not found:
        return Plan(())
    if message is not None:
        if not message.strip():
            raise OrchError("-m: the commit message is empty", exit_code=2)
        return Plan((Draft(Group("all", tuple(found)), message.strip(), "given"),))
    drafts: list[Draft] = []
    warnings: list[str] = []
    agent, model = choice(paths, config)
    work = paths.state_dir / "commit" / clock.now().strftime("%Y%m%dT%H%M%S%f")
    for index, group in enumerate(group_changes(found)):
        fallback = heuristic_message(group)
        if not use_agent:
            drafts.append(Draft(group, fallback, "heuristic"))
            continue
        diff, truncated = group_diff(root, group, config.commit_max_diff_bytes)
        try:
            answer = ask.answer_text(
                paths,
                clock,
                config,
                agent=agent,
                model=model,
                work_dir=work / str(index + 1),
                prompt=commit_prompt(config, group, diff, truncated, config.commit_max_diff_bytes),
                timeout=config.router.timeout_seconds,
                why="commit message",
                env=env,
            )
        except ask.AgentUnavailable as exc:
            warnings.append(
                f"no commit messages from the agent ({exc.message}): using the path heuristic"
            )
            use_agent = False
            drafts.append(Draft(group, fallback, "heuristic"))
            continue
        drafted = clean_message(answer)
        if drafted is None:
            warnings.append(
                f"{agent}'s message for {group.key} is not a Conventional Commits subject: "
                "using the path heuristic"
            )
        drafts.append(Draft(group, drafted or fallback, "agent" if drafted else "heuristic"))
    return Plan(tuple(drafts), tuple(warnings))


def _stageable(root: Path, group: Group) -> list[str]:
    """The paths `git add` accepts: on disk, or deleted in the work tree only."""
    return [
        c.path
        for c in group.changes
        if (root / c.path).exists() or (root / c.path).is_symlink() or c.code[1] == "D"
    ]


def apply(root: Path, drafts: list[Draft]) -> list[Committed]:
    """Make the commits; a single "given" draft commits everything at once."""
    made: list[Committed] = []
    for draft in drafts:
        if draft.source == "given":
            sha = git.commit_everything(root, draft.message)
        else:
            sha = git.commit_paths(
                root, draft.group.paths, draft.message, stage=_stageable(root, draft.group)
            )
        made.append(Committed(sha or "", draft.message, tuple(draft.group.paths)))
    return made
