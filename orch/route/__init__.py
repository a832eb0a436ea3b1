"""Routing a new task: the pure decision, the LLM router call, and route_task."""
