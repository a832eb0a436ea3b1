"""Everything that touches the outside world: processes, git, gh, locks, files, redaction."""
