"""One module (or package) per command group; orch.cli wires them together."""
