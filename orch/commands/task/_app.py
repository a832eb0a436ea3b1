from orch.commands._common import group

app = group("task", "Tasks: GitHub issues that orch routes to agents and runs.")
