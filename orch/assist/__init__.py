"""The chat agent's work for a person: `orch chat` and `orch commit`."""
