"""Review phase (SPEC §5.8): PRs of `in_review` tasks without a verdict for their head SHA.

Runs only with `workflow.enable_review_agent`; the review itself belongs to
`orch.review.run_reviews(ctx)` when that module exists.
"""

from __future__ import annotations

from importlib import import_module

from orch.tick.context import ProjectTick


def run(ctx: ProjectTick) -> None:
    if not ctx.project.config.workflow.enable_review_agent:
        return
    try:
        review = import_module("orch.review")
    except ModuleNotFoundError:
        ctx.act(
            "skip", None, "workflow.enable_review_agent is on, but this orch has no review agent"
        )
        return
    review.run_reviews(ctx)
