"""Scheduled jobs: cron due-ness, job runs and their sidecar."""
