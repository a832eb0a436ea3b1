"""pytest fixtures for the GitHub emulator (filled in by the emulator's owner)."""
