"""Configuration: the frozen model, its validation, and edits of the YAML files."""
