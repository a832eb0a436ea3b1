"""`orch task add|list|get|retry|unblock|assign|close`."""
