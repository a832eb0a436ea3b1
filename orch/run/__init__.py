"""Running one task: worktree, prompts, supervised agent process, outcome, publishing."""
