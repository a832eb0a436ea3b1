"""Setting orch up and looking after it: init, doctor, demo, service, projects, log."""
