"""Integrations beside GitHub issues: the Projects V2 board and notifications."""
