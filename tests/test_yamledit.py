"""One top-level key of a YAML file rewritten, the rest kept byte for byte, every edit proven."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orch.errors import ConfigError
from orch.io.yamledit import block_text, edited_text, replace_block, set_key, set_nested

GLOBAL = """\
# orch global config (hand written)
projects:
- /srv/a   # the first one
  # a trailing comment: kept, like every line after the last item

# Workflow defaults
workflow:
  max_parallel: 2
gh:
  repo: acme/widgets
  project_id: OLD
"""


def test_set_key_rewrites_only_its_block(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(GLOBAL)
    set_key(path, "projects", ["/srv/a", "/srv/b"])
    assert path.read_text() == GLOBAL.replace(
        "projects:\n- /srv/a   # the first one\n", "projects:\n- /srv/a\n- /srv/b\n"
    )


def test_set_nested_keeps_the_other_keys_of_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text(GLOBAL)
    set_nested(path, ("gh", "project_status_map"), {"new": "Todo"})
    set_nested(path, ("gh", "project_id"), "PVT_1")
    text = path.read_text()
    assert text.startswith(GLOBAL.split("gh:")[0])
    assert yaml.safe_load(text)["gh"] == {
        "repo": "acme/widgets",
        "project_id": "PVT_1",
        "project_status_map": {"new": "Todo"},
    }


def test_missing_key_and_missing_file_append(tmp_path: Path) -> None:
    path = tmp_path / "new.yml"
    set_key(path, "projects", ["/srv/a"])
    assert path.read_text() == "projects:\n- /srv/a\n"
    assert replace_block("store: local", "projects", []) == "store: local\nprojects: []\n"


def test_an_edit_that_would_touch_another_key_is_refused(tmp_path: Path) -> None:
    # A flow mapping closed on its own line: the splice would leave a stray `}` behind.
    path = tmp_path / "config.yml"
    original = "projects: [\n  /srv/a\n]\nstore: local\n"
    path.write_text(original)
    with pytest.raises(
        ConfigError, match=r"cannot edit the projects: block .* edit the file by hand"
    ):
        set_key(path, "projects", ["/srv/b"])
    assert path.read_text() == original


@pytest.mark.parametrize(
    ("text", "message"),
    [("projects: [\n", "invalid YAML"), ("- a\n- b\n", "top level must be a mapping")],
)
def test_a_file_that_is_not_a_yaml_mapping_is_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        edited_text(text, "projects", [], source="config.yml")


def test_block_text() -> None:
    assert block_text(GLOBAL, "workflow") == "workflow:\n  max_parallel: 2\n"
    assert block_text(GLOBAL, "jobs") == ""


def test_set_nested_keeps_comments_inside_the_block(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    original = (
        "# project config\n"
        "gh:\n"
        "  repo: acme/widgets   # the real one\n"
        "  # the board is linked by `orch project board link`\n"
        "  project_id: OLD\n"
        "store: github\n"
    )
    path.write_text(original)
    set_nested(path, ("gh", "project_id"), "PVT_1")
    assert path.read_text() == original.replace("project_id: OLD", "project_id: PVT_1")


def test_set_nested_falls_back_to_the_splice_when_ruamel_would_reindent(tmp_path: Path) -> None:
    path = tmp_path / ".orch.yml"
    original = "workflow:\n    max_parallel: 2\ngh:\n  repo: acme/widgets\n"
    path.write_text(original)
    set_nested(path, ("gh", "project_id"), "PVT_1")
    text = path.read_text()
    assert text.startswith("workflow:\n    max_parallel: 2\n")  # untouched, byte for byte
    assert yaml.safe_load(text)["gh"] == {"repo": "acme/widgets", "project_id": "PVT_1"}
