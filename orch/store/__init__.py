"""The task store: issues, labels, comments and pull requests behind one protocol.

Business logic talks only to `Store`. `GitHubStore` (orch.store.github, through gh) and
`LocalStore` (orch.store.local, files under .orch/local) implement it.
"""

from orch.store.base import Comment, Issue, PullRequest, Snapshot, Store

__all__ = ["Comment", "Issue", "PullRequest", "Snapshot", "Store"]
