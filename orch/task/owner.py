"""Owner interaction (SPEC §7.1-7.2): who may steer orch, and what a comment asks for.

Pure: no I/O. The tick's owner phase (orch.tick.owner_phase) reads comments, asks these
functions what they mean and then makes the writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from orch.status import Status

WRITE_PERMISSIONS = ("admin", "maintain", "write")
PRIORITIES = {"low": "simple", "medium": "medium", "high": "complex"}

# name -> (argument shown in help, one-line effect)
COMMANDS: dict[str, tuple[str, str]] = {
    "retry": (
        "",
        "start over: status new, agent cleared, attempts reset; later lines become context",
    ),
    "assign": ("AGENT", "use AGENT for this task: status routed"),
    "unblock": ("", "status new, errors cleared, agent kept"),
    "close": ("", "status done, issue closed"),
    "context": ("TEXT", "add TEXT (or the following lines) to the task's context: status routed"),
    "priority": ("low|medium|high", "complexity simple/medium/complex: status routed"),
    "stop": ("", "kill the running agent: status needs_review"),
    "approve": ("", "make an issue someone without write access opened a task (SPEC §8)"),
    "help": ("", "list these commands"),
}
# Commands a running task accepts; the others are answered "busy".
WHILE_RUNNING = ("stop", "context", "help")
# Statuses on which a plain comment from an authorized user is owner feedback.
FEEDBACK_STATUSES = (Status.DONE, Status.IN_REVIEW, Status.NEEDS_REVIEW, Status.BLOCKED)

_COMMAND_RE = re.compile(r"^/([A-Za-z][A-Za-z-]*)(?:[ \t]+(.*))?$")


@dataclass(frozen=True)
class Command:
    """A slash command from the first line of a comment."""

    name: str  # a key of COMMANDS, or the unknown word as typed (lowercased)
    arg: str  # the rest of the first line, stripped
    context: str  # the following lines, stripped

    @property
    def known(self) -> bool:
        return self.name in COMMANDS


@dataclass(frozen=True)
class Decision:
    """What a comment asks orch to do on a task in a given status.

    `action`: retry | assign | unblock | close | context | priority | stop | approve |
    help | feedback | busy | invalid | none. `status` is the target status (None = unchanged).
    `reply` is the human text of the ack comment.
    """

    action: str
    status: Status | None = None
    agent: str | None = None
    complexity: str | None = None
    context: str = ""
    reply: str = ""
    reset_attempts: bool = False
    clear_agent: bool = False


def parse_command(body: str) -> Command | None:
    """The slash command on the first non-blank line, or None for a plain comment.

    `/word` alone or followed by text is a command; a line like `/usr/bin is missing`
    (a path) is not.
    """
    text = body.replace("\r\n", "\n").strip()
    if not text.startswith("/"):
        return None
    first, _, rest = text.partition("\n")
    match = _COMMAND_RE.match(first.strip())
    if not match:
        return None
    return Command(
        name=match.group(1).lower(), arg=(match.group(2) or "").strip(), context=rest.strip()
    )


def is_bot(login: str, author_type: str) -> bool:
    return author_type.lower() == "bot" or login.lower().endswith("[bot]")


def is_authorized(
    login: str, author_type: str, permission: str | None, allowed_users: Iterable[str]
) -> bool:
    """SPEC §7.1: write/maintain/admin, or listed in workflow.allowed_users; bots only if listed."""
    allowed = {u.lower() for u in allowed_users}
    if login.lower() in allowed:
        return True
    if is_bot(login, author_type):
        return False
    return (permission or "none").lower() in WRITE_PERMISSIONS


# GitHub author associations that rule out write access: no permission lookup needed.
NO_ACCESS_ASSOCIATIONS = ("NONE", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN")


def needs_permission_lookup(
    login: str, author_type: str, allowed_users: Iterable[str], association: str = ""
) -> bool:
    """Whether the collaborator-permission API must be asked about this author (not when
    GitHub already says the author is no collaborator: `association`)."""
    allowed = {u.lower() for u in allowed_users}
    if login.lower() in allowed or is_bot(login, author_type):
        return False
    return association.upper() not in NO_ACCESS_ASSOCIATIONS


def help_text() -> str:
    lines = ["orch understands these commands on the first line of a comment:", ""]
    for name, (arg, effect) in COMMANDS.items():
        usage = f"/{name} {arg}".rstrip()
        lines.append(f"- `{usage}`: {effect}")
    lines += [
        "",
        "A plain comment on a task that is done, in review, needs review or blocked sends it "
        "back to the agent with your comment as context.",
    ]
    return "\n".join(lines)


def decide_command(
    command: Command, status: Status | None, known_agents: Iterable[str]
) -> Decision:
    """What `command` does to a task in `status` (None: a task whose labels need repair)."""
    name = command.name
    if not command.known:
        return Decision("invalid", reply=f"Unknown command `/{name}`.\n\n{help_text()}")
    if name == "help":
        return Decision("help", reply=help_text())
    if name == "approve":  # a waiting issue is approved by the intake gate, not here
        return Decision("approve", reply="This issue is already a task: nothing to approve.")
    running = status is Status.IN_PROGRESS
    if running and name not in WHILE_RUNNING:
        return Decision(
            "busy",
            reply=f"`/{name}`: the task is running; try again when it finishes (or `/stop` it).",
        )
    text = "\n".join(p for p in (command.arg, command.context) if p) if name == "context" else ""
    if name == "retry":
        return Decision(
            "retry",
            Status.NEW,
            context=command.context,
            reset_attempts=True,
            clear_agent=True,
            reply="Retrying from scratch: status new, agent cleared, attempts reset.",
        )
    if name == "assign":
        agents = sorted(known_agents)
        agent = command.arg.split()[0].lower() if command.arg else ""
        if agent not in agents:
            shown = f"`{agent}` is not a configured agent" if agent else "name an agent"
            return Decision(
                "invalid", reply=f"`/assign`: {shown}; use one of: {', '.join(agents)}."
            )
        return Decision(
            "assign",
            Status.ROUTED,
            agent=agent,
            context=command.context,
            reply=f"Assigned to {agent}: status routed.",
        )
    if name == "unblock":
        return Decision(
            "unblock", Status.NEW, context=command.context, reply="Unblocked: status new."
        )
    if name == "close":
        return Decision("close", Status.DONE, reply="Closed by the owner: status done.")
    if name == "context":
        if not text:
            return Decision(
                "invalid", reply="`/context`: add the text on the same line or below it."
            )
        if running:
            return Decision(
                "context", None, context=text, reply="Context added; the next attempt will see it."
            )
        return Decision(
            "context", Status.ROUTED, context=text, reply="Context added: status routed."
        )
    if name == "priority":
        level = command.arg.split()[0].lower() if command.arg else ""
        if level not in PRIORITIES:
            return Decision("invalid", reply="`/priority`: use one of low, medium, high.")
        complexity = PRIORITIES[level]
        return Decision(
            "priority",
            Status.ROUTED,
            complexity=complexity,
            reply=f"Priority {level}: complexity {complexity}, status routed.",
        )
    # stop
    if not running:
        return Decision("invalid", reply="`/stop`: the task is not running.")
    return Decision(
        "stop", Status.NEEDS_REVIEW, reply="Stopped the running agent: status needs_review."
    )


def decide_feedback(body: str, status: Status | None) -> Decision:
    """A plain comment from an authorized user: feedback on a finished or stuck task."""
    if status in FEEDBACK_STATUSES:
        return Decision(
            "feedback",
            Status.ROUTED,
            context=body.strip(),
            reply="Thanks: your comment was added to the task's context; status routed.",
        )
    return Decision("none")
