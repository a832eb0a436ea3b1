"""The conversation on pull requests and mentions (SPEC §12): what asks orch for work.

Pure: no I/O. The tick (orch.tick.pr_feedback, orch.tick.mentions) reads the snapshot,
asks these functions what is new and what it means, then makes the writes.

- Feedback on orch's PR: a review in CHANGES_REQUESTED or COMMENTED state with a body or
  inline comments, or a conversation comment (plain or a slash command). Approvals are
  never feedback.
- Handled once: each handled item gets an `orch:ack` on the PR naming `review_id` or
  `comment_id`, with `through` (the item's time). An item is handled when a trusted ack
  names it, or when it is older than the newest `through` (its ack may have left the
  snapshot's window of recent comments).
- Mentions: a comment whose first word is `workflow.mention` (default `@orch`).

Every marker read here goes through a `MarkerReader` the caller passes (the tick's
`orch.tick.pr_feedback.marker_reader`, which is `markers.orch_marker` with orch's
logins): only markers orch wrote count (SPEC §2.3); anyone else's are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orch.clock import parse_iso, utc_iso
from orch.status import Status
from orch.store.base import Comment, PullRequest, PullThread, ReviewComment
from orch.task import markers, owner
from orch.task.owner import Decision, decide_command, parse_command
from orch.task.verdict import is_orch_pr

FEEDBACK_REVIEW_STATES = ("CHANGES_REQUESTED", "COMMENTED")
# Tasks whose PR feedback sends them back to work; others wait (running, queued) or are over.
FEEDBACK_STATUSES = (Status.IN_REVIEW, Status.NEEDS_REVIEW)
REVIEW_REPLIES = {
    True: "orch's review agent reviews this pull request at each new head on its own.",
    False: "orch's review agent is off for this repository "
    "(`workflow.enable_review_agent: true` turns it on); comment what should change instead.",
}
HUNK_CAP = 1_500  # characters of a diff hunk kept for the prompt (its end: the line)
REVIEW_WORDS = {  # a review's state, as people say it
    "APPROVED": "approved",
    "CHANGES_REQUESTED": "requested changes",
    "COMMENTED": "commented",
}


MarkerReader = Callable[[Comment], "markers.Marker | None"]


@dataclass(frozen=True)
class Feedback:
    """One review or conversation comment on a pull request."""

    kind: str  # "review" | "comment"
    id: int
    author: str
    author_type: str
    at: datetime
    body: str
    state: str = ""  # a review's state
    inline: tuple[ReviewComment, ...] = ()
    association: str = ""  # GitHub's author association

    @property
    def key(self) -> str:
        """The marker field naming it: `review_id` or `comment_id`."""
        return f"{self.kind}_id"

    @property
    def what(self) -> str:
        return "review" if self.kind == "review" else "comment"


def task_of_pull(pull: PullRequest, branch_prefix: str) -> int | None:
    """The task number of a PR orch opened (branch `<prefix><n>-…`, orch's body), else None."""
    if not branch_prefix or not pull.head.startswith(branch_prefix):
        return None
    digits = re.match(r"(\d+)(?:-|$)", pull.head[len(branch_prefix) :])
    if digits is None:
        return None
    number = int(digits.group(1))
    mine = is_orch_pr(pull.head, pull.body, branch_prefix=branch_prefix, number=number)
    return number if mine else None


def feedback_items(thread: PullThread, read: MarkerReader) -> list[Feedback]:
    """The PR's reviews and human comments that can be feedback, oldest first."""
    items = [
        Feedback(
            "review",
            r.id,
            r.author,
            r.author_type,
            r.submitted_at,
            r.body.strip(),
            r.state,
            r.comments,
            r.association,
        )
        for r in thread.reviews
        if r.state in FEEDBACK_REVIEW_STATES and (r.body.strip() or r.comments)
    ]
    items += [
        Feedback(
            "comment",
            c.id,
            c.author,
            c.author_type,
            c.created_at,
            c.body.strip(),
            association=c.association,
        )
        for c in thread.comments
        if read(c) is None and c.body.strip()
    ]
    return sorted(items, key=lambda f: (f.at, f.kind, f.id))


def handled(
    comments: Iterable[Comment], read: MarkerReader
) -> tuple[set[tuple[str, int]], datetime | None]:
    """What orch's acks on a PR say was handled: ({(key, id)}, the newest `through`)."""
    seen: set[tuple[str, int]] = set()
    through: datetime | None = None
    for comment in comments:
        marker = read(comment)
        if marker is None or marker.kind != "ack":
            continue
        for key in ("review_id", "comment_id"):
            if isinstance(marker.data.get(key), int):
                seen.add((key, int(marker.data[key])))
        moment = _time(marker.data.get("through"))
        if moment is not None and (through is None or moment > through):
            through = moment
    return seen, through


def pending(thread: PullThread, read: MarkerReader) -> list[Feedback]:
    """Feedback on the PR that no ack of orch's covers yet, oldest first."""
    seen, through = handled(thread.comments, read)
    return [
        item
        for item in feedback_items(thread, read)
        if (item.key, item.id) not in seen and (through is None or item.at >= through)
    ]


def decide(
    item: Feedback,
    status: Status | None,
    *,
    pr: int,
    mention: str,
    agents: Iterable[str],
    review_agent: bool,
) -> tuple[Decision, str]:
    """What a review or comment on orch's PR asks for, and the command as typed ("" when
    none): a slash command as on the issue; `@orch review` an answer only (orch's review
    agent reviews its PRs on its own); anything else feedback for the next attempt."""
    command = parse_command(item.body) if item.kind == "comment" else None
    asked = mention_text(item.body, mention) if item.kind == "comment" else None
    if asked is not None and asks_review(asked):
        return Decision("review", reply=REVIEW_REPLIES[review_agent]), ""
    if command is not None:
        return decide_command(command, status, agents), command.name
    # As on the issue (done, in review, needs review, blocked), and routed: a second item
    # in the tick that sent the task back joins the same round.
    if status in (*owner.FEEDBACK_STATUSES, Status.ROUTED):
        reply = f"Thanks: your {item.what} goes to the agent in the next attempt; status routed."
        return Decision("feedback", Status.ROUTED, context=render(item, pr), reply=reply), ""
    return Decision("none"), ""


def ack_data(item: Feedback, task: int, action: str) -> dict[str, Any]:
    """The PR-side ack marker of a handled item (what makes it handled)."""
    return {item.key: item.id, "task": task, "command": action, "through": utc_iso(item.at)}


def render(item: Feedback, pr: int) -> str:
    """The feedback as the agent reads it: who, the body, each inline comment as
    `path:line`, the commented code (the diff hunk's end) and the text."""
    what = "comment"
    if item.kind == "review":
        what = f"review ({REVIEW_WORDS.get(item.state, item.state.lower())})"
    lines = [f"**{what.capitalize()} by @{item.author} on PR #{pr}**"]
    if item.body:
        lines += ["", item.body]
    for inline in item.inline:
        place = f"{inline.path}:{inline.line}" if inline.line else f"{inline.path} (outdated line)"
        lines += ["", f"- `{place}`"]
        hunk = inline.diff_hunk[-HUNK_CAP:]
        if hunk:
            lines += ["", "```diff", hunk, "```"]
        lines += ["", inline.body.strip()]
    return "\n".join(lines)


def answers(feedback: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per PR, who gave the feedback an attempt works on: [{pr, authors}] (runner's meta)."""
    by_pr: dict[int, list[str]] = {}
    for item in feedback:
        if not isinstance(item.get("pr"), int):
            continue
        authors = by_pr.setdefault(int(item["pr"]), [])
        author = str(item.get("author") or "")
        if author and author not in authors:
            authors.append(author)
    return [{"pr": pr, "authors": authors} for pr, authors in by_pr.items()]


def reply_text(authors: Iterable[str], attempt: Any, status: str, link: str) -> str:
    """The short answer on the PR once the attempt that worked on its feedback is done."""
    who = " ".join(f"@{a}" for a in authors)
    text = f"Attempt {attempt} worked on your feedback (status {status}): {link}"
    return f"{who} {text}" if who else text


def mention_text(body: str, mention: str) -> str | None:
    """The text after the mention when the comment starts with it, else None."""
    text = body.replace("\r\n", "\n").strip()
    if not mention or not text.lower().startswith(mention.lower()):
        return None
    rest = text[len(mention) :]
    if rest and not (rest[0].isspace() or rest[0] in ",:;.!?"):
        return None  # `@orchestra` is not `@orch`
    return rest.lstrip(",:;.!? \t\n")


def asks_review(text: str) -> bool:
    """`@orch review …`: the first word after the mention is `review`."""
    words = text.split()
    return bool(words) and words[0].lower().rstrip(".,:;!") == "review"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None
