"""The review agent: one in_review task's PR reviewed at its head SHA, and its verdict."""
