"""orch: turn GitHub issues into pull requests by delegating them to AI coding agent CLIs."""

__version__ = "0.1.0"
