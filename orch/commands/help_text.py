"""One-line summaries and "Examples" blocks of the command help pages, by command path.

`orch.commands._common.polish()` applies them to the click command tree (short help in
the command lists, an Examples epilog on every page). A command may carry its own
examples instead (`examples(...)` as the typer `epilog`); one found here wins for the
summary only where the command's own first sentence would not fit on one line.
"""

from __future__ import annotations

# path -> (summary, example lines). A summary fits the command list on one line (≤ 60
# characters); an example is a shell line, optionally followed by "  # what it does".
HELP: dict[str, tuple[str, tuple[str, ...]]] = {
    "": (
        "Turn GitHub issues into pull requests with AI coding agents.",
        (
            "orch init                      # set up the project in this checkout",
            "orch task add 'Fix the login redirect' --label bug",
            "orch tick --wait               # route, run and publish, then wait",
        ),
    ),
    "init": (
        "Set up this checkout: labels, .orch.yml, registration.",
        ("orch init", "orch init --repo acme/widgets", "orch init --local --dry-run"),
    ),
    "tick": (
        "One pass over every registered project.",
        (
            "orch tick",
            "orch tick --wait               # wait for the agents it starts",
            "orch tick --dry-run --json --jq '.actions[].action'",
        ),
    ),
    "completion": (
        "Print a shell completion script (bash, zsh, fish).",
        (
            "orch completion bash > ~/.local/share/bash-completion/completions/orch",
            'orch completion zsh > "${fpath[1]}/_orch"',
            "orch completion fish > ~/.config/fish/completions/orch.fish",
        ),
    ),
    "task": (
        "Tasks: issues that orch routes to agents and runs.",
        ("orch task list", "orch task add 'Fix the login redirect'", "orch task get 12"),
    ),
    "task add": (
        "Add a task (an issue with status:new); prints its number.",
        (
            "orch task add 'Fix the login redirect' --label bug",
            "orch task add 'Bump deps' --agent codex --complexity simple",
            "git log -1 --format=%B | orch task add 'Follow up' --body-file -",
        ),
    ),
    "task list": (
        "List tasks: number, status, agent, title.",
        (
            "orch task list",
            "orch task list --status needs_review --status blocked",
            "orch task list --jq '.tasks[].number'",
        ),
    ),
    "task get": (
        "Show one task: status, PR and reviews, attempts, cost.",
        (
            "orch task get 12",
            "orch task get 12 --jq '.task.pr.url'",
            "orch task get 12 --jq '.task.pr.review_state'",
        ),
    ),
    "task retry": (
        "Start a task over (status new, agent cleared).",
        ("orch task retry 12", "orch task retry 12 --dry-run"),
    ),
    "task unblock": (
        "Clear a task's errors and send it back to new.",
        ("orch task unblock 12", "orch task unblock all"),
    ),
    "task assign": (
        "Give a task to an agent (status routed).",
        ("orch task assign 12 codex", "orch task assign 12 claude --dry-run"),
    ),
    "task close": (
        "Mark a task done and close its issue.",
        ("orch task close 12 --note 'Fixed by hand in #40'",),
    ),
    "task review": (
        "Review a task's PR; merge, reroute or escalate.",
        ("orch task review 12", "orch task review 12 --agent codex --detach"),
    ),
    "task route": (
        "Route one task: agent, complexity, model.",
        ("orch task route", "orch task route 12 --dry-run --json"),
    ),
    "task run": (
        "Run one task now: agent, commit, push, PR, result.",
        (
            "orch task run 12",
            "orch task run 12 --agent codex --model gpt-5",
            "orch task run --detach         # the next routed task, in the background",
        ),
    ),
    "task kill": (
        "Stop a running task's agent (task to needs_review).",
        ("orch task kill 12",),
    ),
    "task live": (
        "Running agents on this host: task, agent, elapsed.",
        ("orch task live", "orch task live --watch", "orch task live --jq '.live[].number'"),
    ),
    "task logs": (
        "An attempt's agent output and result, readably.",
        ("orch task logs 12", "orch task logs 12 -f", "orch task logs 12 --attempt 1"),
    ),
    "task attach": (
        "Attach to a running task's tmux session.",
        ("orch task attach 12",),
    ),
    "task cost": (
        "Tokens and cost per attempt and in total.",
        ("orch task cost", "orch task cost 12 --json"),
    ),
    "task tree": (
        "Tasks with their sub-tasks.",
        ("orch task tree", "orch task tree 12 --all"),
    ),
    "stream": (
        "Follow the live output of running agents.",
        (
            "orch stream                    # every agent session on this host",
            "orch stream 12 15              # only tasks 12 and 15",
            "orch stream --follow           # keep waiting for new sessions",
        ),
    ),
    "chat": (
        "Ask the chat agent about the tasks.",
        (
            "orch chat 'what is running?'",
            "orch chat                      # a REPL: /agent, /model, /help, /quit",
            "orch chat 'retry the blocked ones' --yes",
            "orch chat history --search budget",
        ),
    ),
    "commit": (
        "Commit the changes as logical commits.",
        (
            "orch commit                    # draft, then accept/edit/reject each",
            "orch commit --dry-run --no-llm",
            "orch commit --no-llm --yes",
            "orch commit -m 'fix: handle empty input'",
        ),
    ),
    "notify": (
        "Send a message through every notification channel.",
        ("orch notify 'deploy finished'", 'orch notify "$(date): nightly run done"'),
    ),
    "prune": (
        "Remove worktrees and branches of finished tasks.",
        ("orch prune --dry-run", "orch prune", "orch prune --dry-run --json --jq '.remove[].name'"),
    ),
    "service prune": (
        "Remove worktrees and branches of finished tasks.",
        ("orch service prune --dry-run", "orch service prune"),
    ),
    "task publish": (
        "Promote an internal task to a GitHub issue.",
        ("orch task publish i3", "orch task publish i3 --json --jq .published.issue"),
    ),
    "job": (
        "Scheduled jobs that open tasks or run commands.",
        ("orch job list", "orch job add '0 9 * * 1-5' 'Triage new bugs'"),
    ),
    "job add": (
        "Add a scheduled job; prints its id.",
        (
            "orch job add '0 9 * * 1-5' 'Triage new bugs'",
            "orch job add @daily 'Nightly lint' --type bash --command 'make lint'",
        ),
    ),
    "job list": (
        "List jobs with their last and next run.",
        ("orch job list", "orch job list --json"),
    ),
    "job info": ("Show one job, its last and next run.", ("orch job info triage-new-bugs",)),
    "job remove": ("Remove a job (its past tasks stay).", ("orch job remove triage-new-bugs",)),
    "job enable": ("Enable a job from its next slot.", ("orch job enable triage-new-bugs",)),
    "job disable": ("Disable a job (kept, enabled: false).", ("orch job disable triage-new-bugs",)),
    "job tick": ("Fire this project's due jobs now.", ("orch job tick", "orch job tick --dry-run")),
    "project": (
        "Projects ticked by `orch tick`; their boards.",
        ("orch project list", "orch project add acme/widgets"),
    ),
    "project add": (
        "Register a checkout or a repository for `orch tick`.",
        ("orch project add .", "orch project add acme/widgets"),
    ),
    "project list": (
        "The registered projects and what is wrong with them.",
        ("orch project list", "orch project list --jq '.projects[].repo'"),
    ),
    "project remove": (
        "Stop ticking a project (files are kept).",
        ("orch project remove acme/widgets",),
    ),
    "project board": (
        "The project's Projects V2 board.",
        ("orch project board list", "orch project board info --fix"),
    ),
    "project board list": ("The boards of the repository's owner.", ("orch project board list",)),
    "project board link": (
        "Link a board: write its ids into .orch.yml.",
        ("orch project board link PVT_kwDOA1b2c3",),
    ),
    "project board info": (
        "The board's Status options and orch's mapping.",
        ("orch project board info", "orch project board info --fix --dry-run"),
    ),
    "project board sync": (
        "Put every open task on the board in its column.",
        ("orch project board sync --dry-run",),
    ),
    "service": (
        "Run `orch tick` unattended (systemd, launchd, cron).",
        ("orch service install", "orch service status"),
    ),
    "service install": (
        "Install and enable the timer (safe to repeat).",
        (
            "orch service install --dry-run  # print the files it would write",
            "orch service install --interval 120",
            "orch service install --cron",
        ),
    ),
    "service uninstall": ("Remove exactly what install wrote.", ("orch service uninstall",)),
    "service status": (
        "Installed? enabled? last run, exit code, next run.",
        ("orch service status", "orch service status --json"),
    ),
    "service start": ("Resume the installed timer.", ("orch service start",)),
    "service stop": ("Pause the timer (running agents finish).", ("orch service stop",)),
    "agents": (
        "Agent CLIs found, their versions and cooldowns.",
        ("orch agents", "orch agents --jq '.agents[] | select(.installed) | .name'"),
    ),
    "cooldown": (
        "Agents cooling down after usage or auth errors.",
        ("orch cooldown list", "orch cooldown clear claude"),
    ),
    "cooldown list": ("Cooldowns in force, with time left.", ("orch cooldown list",)),
    "cooldown clear": (
        "End a cooldown now: AGENT or AGENT:MODEL.",
        ("orch cooldown clear claude", "orch cooldown clear codex:gpt-5"),
    ),
    "config": (
        "Show the configuration and where it lives.",
        ("orch config show", "orch config get workflow.max_parallel"),
    ),
    "config get": (
        "Print one merged configuration value.",
        ("orch config get workflow.max_parallel",),
    ),
    "config show": (
        "Print the merged configuration.",
        ("orch config show", "orch config show --jq '.config.agents | keys'"),
    ),
    "config path": ("Print where orch reads config and keeps state.", ("orch config path",)),
    "doctor": (
        "Check gh, auth, permissions, labels, agents, config.",
        ("orch doctor", "orch --project acme/widgets doctor", "orch doctor --json"),
    ),
    "log": (
        "Show orch's log, or one task's lines.",
        ("orch log", "orch log 12", "orch log -f -v   # follow, with DEBUG lines"),
    ),
    "stats": (
        "Tasks per status, agent success rate, tokens, cost.",
        ("orch stats", "orch stats --jq '.agents'"),
    ),
    "demo": (
        "An end-to-end run on a throw-away local project.",
        ("orch demo", "orch demo --dir /tmp/orch-demo"),
    ),
}
