.PHONY: test lint bench demo docs

test:
	python -m pytest

lint:
	ruff check orch tests
	ruff format --check orch tests
	lint-imports
	mypy orch

bench:
	python bench/tick.py
	python bench/requests.py
	python bench/startup.py

demo:
	orch demo

docs:
	python docs/gen_commands.py > docs/commands.md
