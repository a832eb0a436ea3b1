"""Pull request reviews and review (inline) comments, as GitHub serves them.

REST (docs.github.com/rest/pulls/reviews, /rest/pulls/comments):
  GET  pulls/{n}/reviews                 list, oldest first, paginated
  POST pulls/{n}/reviews                 {event: APPROVE|REQUEST_CHANGES|COMMENT, body,
                                          commit_id, comments: [{path, line, side, body}]};
                                          no event = PENDING; REQUEST_CHANGES and COMMENT
                                          without a body (and, for COMMENT, no comments)
                                          are 422; approving or requesting changes on your
                                          own pull request is 422, like GitHub
  GET  pulls/{n}/reviews/{id}            one review
  GET  pulls/{n}/reviews/{id}/comments   the inline comments of one review
  GET  pulls/{n}/comments                every inline comment, oldest first
  POST pulls/{n}/comments                {body, commit_id, path, line, side} or
                                          {body, in_reply_to}: a single-comment review
                                          (state COMMENTED) holding it
A review or inline comment bumps the pull request's `updated_at`, as on GitHub.
`diff_hunk` is the hunk of `git diff base...head -- path` in the repository's origin up
to the commented line (GitHub's shape); without an origin, a one-line hunk.

The GraphQL side (PullRequest.reviews / latestReviews / reviewThreads, review comments)
lives in graphql.py and reads the same records.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.emulator.server import Emulator, PullRec, Repo

JsonDict = dict[str, Any]
EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
_HUNK_RE = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


@dataclass
class ReviewRec:
    id: int
    pull: int
    user: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    body: str
    commit_id: str
    submitted_at: datetime | None


@dataclass
class ReviewCommentRec:
    id: int
    pull: int
    review_id: int
    user: str
    path: str
    line: int
    side: str
    body: str
    diff_hunk: str
    commit_id: str
    created_at: datetime
    updated_at: datetime
    in_reply_to: int | None = None


def diff_hunk(origin: Any, base: str, head: str, path: str, line: int) -> str:
    """GitHub's `diff_hunk`: the hunk header through the commented (new-side) line."""
    if origin is not None:
        done = subprocess.run(
            ["git", "--git-dir", str(origin), "diff", f"{base}...{head}", "--", path],
            capture_output=True,
            text=True,
            check=False,
        )
        found = _hunk_through(done.stdout.splitlines(), line) if done.returncode == 0 else None
        if found:
            return found
    return f"@@ -{line},1 +{line},1 @@\n+"


def _hunk_through(lines: list[str], line: int) -> str | None:
    hunk: list[str] = []
    new = 0
    for text in lines:
        match = _HUNK_RE.match(text)
        if match:
            hunk, new = [text], int(match.group(1)) - 1
            continue
        if not hunk:
            continue
        hunk.append(text)
        if not text.startswith("-"):
            new += 1
            if new == line:
                return "\n".join(hunk)
    return None


class ReviewRoutes:
    """REST handlers and JSON shapes; mixed into the Emulator (which owns the state)."""

    def _review_json(self: Emulator, repo: Repo, review: ReviewRec) -> JsonDict:
        html = self._html(repo, f"pull/{review.pull}#pullrequestreview-{review.id}")
        return {
            "id": review.id,
            "node_id": f"PRR_{review.id}",
            "user": self._user_json(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": self._api(repo, f"pulls/{review.pull}"),
            "author_association": self._association(repo, review.user),
            "_links": {"html": {"href": html}},
            "submitted_at": _iso(review.submitted_at),
            "commit_id": review.commit_id,
        }

    def _review_comment_json(self: Emulator, repo: Repo, c: ReviewCommentRec) -> JsonDict:
        out: JsonDict = {
            "id": c.id,
            "node_id": f"PRRC_{c.id}",
            "url": self._api(repo, f"pulls/comments/{c.id}"),
            "pull_request_review_id": c.review_id,
            "diff_hunk": c.diff_hunk,
            "path": c.path,
            "position": c.line,
            "original_position": c.line,
            "commit_id": c.commit_id,
            "original_commit_id": c.commit_id,
            "user": self._user_json(c.user),
            "body": c.body,
            "created_at": _iso(c.created_at),
            "updated_at": _iso(c.updated_at),
            "html_url": self._html(repo, f"pull/{c.pull}#discussion_r{c.id}"),
            "pull_request_url": self._api(repo, f"pulls/{c.pull}"),
            "author_association": self._association(repo, c.user),
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": c.line,
            "original_line": c.line,
            "side": c.side,
            "subject_type": "line",
        }
        if c.in_reply_to is not None:
            out["in_reply_to_id"] = c.in_reply_to
        return out

    # -- state ------------------------------------------------------------------------

    def _submit_review(
        self: Emulator,
        repo: Repo,
        number: int,
        user: str,
        body: JsonDict,
    ) -> ReviewRec:
        from tests.emulator.server import HttpError, validation_failed

        pull = self._pull(repo, number)
        issue = repo.issues[number]
        event = str(body.get("event") or "")
        if event and event not in EVENTS:
            raise validation_failed("PullRequestReview", "invalid", "event")
        text = str(body.get("body") or "")
        comments = list(body.get("comments") or [])
        if event == "REQUEST_CHANGES" and not text:
            raise HttpError(422, "Unprocessable Entity", errors=["Body is required"])
        if event == "COMMENT" and not text and not comments:
            raise HttpError(422, "Unprocessable Entity", errors=["Body is required"])
        if event in ("APPROVE", "REQUEST_CHANGES") and user == issue.user:
            verb = "approve" if event == "APPROVE" else "request changes on"
            raise HttpError(
                422, "Unprocessable Entity", errors=[f"Can not {verb} your own pull request"]
            )
        sha = str(body.get("commit_id") or self._pull_head_sha(repo, pull))
        now = self._tick()
        review = ReviewRec(
            self._next_id(),
            number,
            user,
            EVENTS.get(event, "PENDING"),
            text,
            sha,
            now if event else None,
        )
        repo.reviews[review.id] = review
        for item in comments:
            self._inline(repo, pull, review, user, item, now)
        issue.updated_at = now
        return review

    def _inline(
        self: Emulator,
        repo: Repo,
        pull: PullRec,
        review: ReviewRec,
        user: str,
        item: Any,
        now: datetime,
    ) -> ReviewCommentRec:
        from tests.emulator.server import validation_failed

        if not isinstance(item, dict) or not item.get("path") or not item.get("body"):
            raise validation_failed("PullRequestReviewComment", "missing_field", "path")
        line = item.get("line") or item.get("position")
        if not isinstance(line, int) or line < 1:
            raise validation_failed("PullRequestReviewComment", "missing_field", "line")
        path = str(item["path"])
        comment = ReviewCommentRec(
            self._next_id(),
            pull.number,
            review.id,
            user,
            path,
            line,
            str(item.get("side") or "RIGHT"),
            str(item["body"]),
            diff_hunk(repo.origin, pull.base, pull.head, path, line),
            review.commit_id,
            now,
            now,
        )
        repo.review_comments[comment.id] = comment
        return comment

    def _pull_head_sha(self: Emulator, repo: Repo, pull: PullRec) -> str:
        return self._branch_sha(repo, pull.head) or pull.fake_sha

    # -- routes -----------------------------------------------------------------------

    def _list_reviews(
        self: Emulator,
        repo: Repo,
        args: list[str],
        query: dict[str, str],
        body: JsonDict,
        login: str,
    ) -> tuple[int, dict[str, str], Any]:
        number = int(args[0])
        self._pull(repo, number)
        items = [
            self._review_json(repo, r)
            for r in sorted(repo.reviews.values(), key=lambda r: r.id)
            if r.pull == number and (r.state != "PENDING" or r.user == login)
        ]
        return self._page(repo, f"/repos/{repo.full_name}/pulls/{number}/reviews", items, query)

    def _create_review(
        self: Emulator,
        repo: Repo,
        args: list[str],
        query: dict[str, str],
        body: JsonDict,
        login: str,
    ) -> tuple[int, dict[str, str], Any]:
        review = self._submit_review(repo, int(args[0]), login, body)
        return 200, {}, self._review_json(repo, review)

    def _get_review(
        self: Emulator,
        repo: Repo,
        args: list[str],
        query: dict[str, str],
        body: JsonDict,
        login: str,
    ) -> tuple[int, dict[str, str], Any]:
        return 200, {}, self._review_json(repo, self._review(repo, args))

    def _list_review_comments_of(
        self: Emulator,
        repo: Repo,
        args: list[str],
        query: dict[str, str],
        body: JsonDict,
        login: str,
    ) -> tuple[int, dict[str, str], Any]:
        review = self._review(repo, args)
        items = [
            self._review_comment_json(repo, c)
            for c in sorted(repo.review_comments.values(), key=lambda c: c.id)
            if c.review_id == review.id
        ]
        path = f"/repos/{repo.full_name}/pulls/{review.pull}/reviews/{review.id}/comments"
        return self._page(repo, path, items, query)

    def _list_pull_comments(
        self: Emulator,
        repo: Repo,
        args: list[str],
        query: dict[str, str],
        body: JsonDict,
        login: str,
    ) -> tuple[int, dict[str, str], Any]:
        number = int(args[0])
        self._pull(repo, number)
        items = [
            self._review_comment_json(repo, c)
            for c in sorted(repo.review_comments.values(), key=lambda c: c.id)
            if c.pull == number
        ]
        return self._page(repo, f"/repos/{repo.full_name}/pulls/{number}/comments", items, query)

    def _create_pull_comment(
        self: Emulator,
        repo: Repo,
        args: list[str],
        query: dict[str, str],
        body: JsonDict,
        login: str,
    ) -> tuple[int, dict[str, str], Any]:
        from tests.emulator.server import validation_failed

        number = int(args[0])
        pull = self._pull(repo, number)
        if not body.get("body"):
            raise validation_failed("PullRequestReviewComment", "missing_field", "body")
        item = dict(body)
        reply_to = body.get("in_reply_to")
        if reply_to is not None:
            parent = repo.review_comments.get(int(reply_to))
            if parent is None or parent.pull != number:
                raise validation_failed("PullRequestReviewComment", "invalid", "in_reply_to")
            item.update(path=parent.path, line=parent.line, side=parent.side)
        elif not body.get("commit_id"):
            raise validation_failed("PullRequestReviewComment", "missing_field", "commit_id")
        now = self._tick()
        review = ReviewRec(
            self._next_id(), number, login, "COMMENTED", "", self._pull_head_sha(repo, pull), now
        )
        repo.reviews[review.id] = review
        comment = self._inline(repo, pull, review, login, item, now)
        comment.in_reply_to = int(reply_to) if reply_to is not None else None
        repo.issues[number].updated_at = now
        return 201, {}, self._review_comment_json(repo, comment)

    def _review(self: Emulator, repo: Repo, args: list[str]) -> ReviewRec:
        from tests.emulator.server import HttpError

        review = repo.reviews.get(int(args[1]))
        if review is None or review.pull != int(args[0]):
            raise HttpError(404, "Not Found")
        return review


def _iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
