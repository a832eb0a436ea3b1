"""The Projects V2 board (SPEC §3 `orch project board …`, §4 `gh.project_*`, §6.5 step 4).

A board is optional: when `gh.project_id` is set, every status change of a task moves its
board item to the matching column of the board's single-select Status field:

    backlog     <- new, routed
    in_progress <- in_progress
    review      <- in_review, needs_review, blocked
    done        <- done

A column is found by option id (`gh.project_status_map`) or by option name
(`gh.project_status_names`, a name or a list of candidate names; default: Todo,
In Progress, In Review, Done). Only the GitHub store has boards.

Requests: moving an item costs 1 GraphQL mutation when its item id is known (cached in
`<state>/repos/<owner>/<repo>/board.json`, a reconstructible cache), else 2 (add the
issue to the board, which answers with the existing item if there is one, then set the
field); plus 1 read per process to learn the options when only names are configured.
Board failures never fail a status change: they are logged and warned about.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orch import labels as L
from orch import taskid
from orch.errors import NotFound, OrchError
from orch.io.sidecar import read_json, write_json_atomic
from orch.io.yamledit import set_nested
from orch.output import Console
from orch.status import Status

if TYPE_CHECKING:
    from orch.config.model import Config
    from orch.io.gh import Gh
    from orch.store.base import Issue, Store

log = logging.getLogger("orch")

COLUMNS = ("backlog", "in_progress", "review", "done")
COLUMN_OF: dict[Status, str] = {
    Status.NEW: "backlog",
    Status.ROUTED: "backlog",
    Status.IN_PROGRESS: "in_progress",
    Status.IN_REVIEW: "review",
    Status.NEEDS_REVIEW: "review",
    Status.BLOCKED: "review",
    Status.DONE: "done",
}
DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "backlog": ("Todo", "Backlog"),
    "in_progress": ("In Progress", "Doing"),
    "review": ("In Review", "Review"),
    "done": ("Done",),
}
STATUS_FIELD = "Status"


class BoardError(OrchError):
    """The board is not set up, or GitHub refused a board request."""


def needs_github(config: Config) -> None:
    if config.store != "github":
        raise BoardError(
            "a Projects V2 board needs the GitHub store (store: github in .orch.yml); "
            "this project uses the local store"
        )


def column_for(status: Status) -> str:
    return COLUMN_OF[status]


def names_for(config_names: Mapping[str, Any], column: str) -> tuple[str, ...]:
    """Candidate option names of a column (pure): configured ones, else the defaults."""
    value = config_names.get(column)
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, Sequence) and not isinstance(value, str):
        found = tuple(str(v) for v in value if str(v))
        if found:
            return found
    return DEFAULT_NAMES[column]


def resolve_map(
    options: Sequence[tuple[str, str]],
    config_names: Mapping[str, Any],
    config_map: Mapping[str, str],
) -> dict[str, str]:
    """column -> option id (pure): the configured ids first, else the first option whose
    name matches a candidate name (case-insensitive)."""
    by_name = {name.lower(): ident for ident, name in options}
    known = {ident for ident, _ in options}
    result: dict[str, str] = {}
    for column in COLUMNS:
        configured = config_map.get(column)
        if configured and (not options or configured in known):
            result[column] = configured
            continue
        for name in names_for(config_names, column):
            if name.lower() in by_name:
                result[column] = by_name[name.lower()]
                break
    return result


# -------------------------------------------------------------------------- GraphQL

_OWNER_BOARDS = """
query OrchBoards($login: String!) {
  %s(login: $login) {
    projectsV2(first: 100) { nodes { id number title closed url } }
  }
}
"""

_BOARD = """
query OrchBoard($id: ID!) {
  node(id: $id) {
    ... on ProjectV2 {
      id number title url closed
      fields(first: 50) {
        nodes {
          ... on ProjectV2SingleSelectField { id name dataType options { id name } }
          ... on ProjectV2Field { id name dataType }
        }
      }
    }
  }
}
"""

_ITEMS = """
query OrchBoardItems($id: ID!, $cursor: String) {
  node(id: $id) {
    ... on ProjectV2 {
      items(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          content { ... on Issue { id number } ... on PullRequest { id number } }
          fieldValueByName(name: "Status") {
            ... on ProjectV2ItemFieldSingleSelectValue { optionId name }
          }
        }
      }
    }
  }
}
"""

_ADD = """
mutation OrchBoardAdd($project: ID!, $content: ID!) {
  addProjectV2ItemById(input: {projectId: $project, contentId: $content}) { item { id } }
}
"""

_SET = """
mutation OrchBoardSet($project: ID!, $item: ID!, $field: ID!, $option: String!) {
  updateProjectV2ItemFieldValue(input: {projectId: $project, itemId: $item, fieldId: $field,
                                        value: {singleSelectOptionId: $option}}) {
    projectV2Item { id }
  }
}
"""


@dataclass(frozen=True)
class BoardSummary:
    id: str
    number: int
    title: str
    closed: bool = False
    url: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "closed": self.closed,
            "url": self.url,
        }


@dataclass(frozen=True)
class StatusField:
    id: str
    name: str
    options: tuple[tuple[str, str], ...]  # (option id, name)


@dataclass
class BoardInfo:
    board: BoardSummary
    field: StatusField | None
    mapping: dict[str, str]  # column -> option id
    missing: list[str]  # columns with no option
    configured_field: str | None
    configured_map: dict[str, str]
    fixed: bool = False

    def to_json(self) -> dict[str, Any]:
        names = dict(self.field.options) if self.field else {}
        return {
            "schema": 1,
            "board": self.board.to_json(),
            "status_field": (
                {
                    "id": self.field.id,
                    "name": self.field.name,
                    "options": [{"id": i, "name": n} for i, n in self.field.options],
                }
                if self.field
                else None
            ),
            "columns": {
                column: {
                    "statuses": [s.value for s, c in COLUMN_OF.items() if c == column],
                    "option_id": self.mapping.get(column),
                    "option": names.get(self.mapping.get(column, "")),
                }
                for column in COLUMNS
            },
            "missing": self.missing,
            "configured": {
                "project_status_field_id": self.configured_field,
                "project_status_map": self.configured_map,
            },
            "fixed": self.fixed,
        }


def _gh(store: Store) -> Gh:
    gh = getattr(store, "gh", None)
    if gh is None:
        raise BoardError("a Projects V2 board needs the GitHub store (store: github)")
    return gh  # type: ignore[no-any-return]


def list_boards(store: Store) -> list[BoardSummary]:
    """Boards of the repository's owner (an organization, else a user)."""
    gh = _gh(store)
    owner = store.repo.split("/", 1)[0]
    data: Any = None
    for kind in ("organization", "user"):
        try:
            data = (gh.graphql(_OWNER_BOARDS % kind, {"login": owner}) or {}).get(kind)
        except NotFound:
            data = None
        if data:
            break
    nodes = ((data or {}).get("projectsV2") or {}).get("nodes") or []
    return [
        BoardSummary(
            id=str(n["id"]),
            number=int(n.get("number") or 0),
            title=str(n.get("title") or ""),
            closed=bool(n.get("closed")),
            url=str(n.get("url") or ""),
        )
        for n in nodes
        if n
    ]


def read_board(gh: Gh, board_id: str) -> tuple[BoardSummary, StatusField | None]:
    """The board and its Status field (a single-select field named Status)."""
    try:
        node = (gh.graphql(_BOARD, {"id": board_id}) or {}).get("node")
    except NotFound:
        node = None
    if not node or "number" not in node:
        raise BoardError(
            f"no Projects V2 board with id {board_id!r}; list them with `orch project board list`"
        )
    board = BoardSummary(
        id=str(node["id"]),
        number=int(node.get("number") or 0),
        title=str(node.get("title") or ""),
        closed=bool(node.get("closed")),
        url=str(node.get("url") or ""),
    )
    status: StatusField | None = None
    for fld in (node.get("fields") or {}).get("nodes") or []:
        if fld and fld.get("name") == STATUS_FIELD and fld.get("options") is not None:
            options = tuple((str(o["id"]), str(o["name"])) for o in fld["options"])
            status = StatusField(str(fld["id"]), str(fld["name"]), options)
            break
    return board, status


def board_info(store: Store, config: Config) -> BoardInfo:
    board_id = _configured_id(config)
    board, status = read_board(_gh(store), board_id)
    mapping = (
        resolve_map(status.options, config.gh.project_status_names, config.gh.project_status_map)
        if status
        else {}
    )
    return BoardInfo(
        board=board,
        field=status,
        mapping=mapping,
        missing=[c for c in COLUMNS if c not in mapping],
        configured_field=config.gh.project_status_field_id,
        configured_map=dict(config.gh.project_status_map),
    )


def _configured_id(config: Config) -> str:
    needs_github(config)
    if not config.gh.project_id:
        raise BoardError(
            "no board is linked (gh.project_id is empty); "
            "find one with `orch project board list`, then `orch project board link ID`"
        )
    return config.gh.project_id


# -------------------------------------------------------------------------- link / fix


def link_board(
    store: Store, config_file: Path, board_id: str, *, dry_run: bool = False
) -> BoardInfo:
    """Write gh.project_id and gh.project_status_field_id (and the option map) into
    `.orch.yml`, keeping the rest of the file."""
    board, status = read_board(_gh(store), board_id)
    if status is None:
        raise BoardError(
            f"board {board.title!r} has no single-select field named Status; add one on GitHub"
        )
    mapping = resolve_map(status.options, {}, {})
    if not dry_run:
        set_nested(config_file, ("gh", "project_id"), board.id)
        set_nested(config_file, ("gh", "project_status_field_id"), status.id)
        if mapping:
            set_nested(config_file, ("gh", "project_status_map"), mapping)
    return BoardInfo(
        board=board,
        field=status,
        mapping=mapping,
        missing=[c for c in COLUMNS if c not in mapping],
        configured_field=status.id,
        configured_map=mapping,
        fixed=True,
    )


def fix_board(
    store: Store, config: Config, config_file: Path, *, dry_run: bool = False
) -> BoardInfo:
    """`info --fix`: fill gh.project_status_map (and the field id) from the option names."""
    info = board_info(store, config)
    if info.field is None:
        raise BoardError(
            f"board {info.board.title!r} has no single-select field named Status; add one on GitHub"
        )
    if not dry_run:
        set_nested(config_file, ("gh", "project_status_field_id"), info.field.id)
        set_nested(config_file, ("gh", "project_status_map"), dict(info.mapping))
    info.configured_field = info.field.id
    info.configured_map = dict(info.mapping)
    info.fixed = True
    return info


# -------------------------------------------------------------------------- moving items


@dataclass
class Board:
    """A linked board of one project; moves items. One per store (process)."""

    gh: Gh
    project_id: str
    field_id: str | None
    names: Mapping[str, Any]
    configured: Mapping[str, str]
    cache_file: Path | None = None
    _mapping: dict[str, str] | None = None
    _items: dict[str, str] | None = None  # content node id -> item id
    requests: int = field(default=0)

    @classmethod
    def from_config(cls, gh: Gh, config: Config, cache_file: Path | None = None) -> Board | None:
        if config.store != "github" or not config.gh.project_id:
            return None
        return cls(
            gh=gh,
            project_id=config.gh.project_id,
            field_id=config.gh.project_status_field_id,
            names=config.gh.project_status_names,
            configured=config.gh.project_status_map,
            cache_file=cache_file,
        )

    def _graphql(self, query: str, variables: Mapping[str, Any]) -> Any:
        self.requests += 1
        return self.gh.graphql(query, variables)

    def mapping(self) -> tuple[str, dict[str, str]]:
        """(field id, column -> option id); reads the board only when something is missing."""
        if self._mapping is not None and self.field_id:
            return self.field_id, self._mapping
        complete = all(self.configured.get(c) for c in COLUMNS)
        if complete and self.field_id:
            self._mapping = {c: self.configured[c] for c in COLUMNS}
            return self.field_id, self._mapping
        self.requests += 1
        _, status = read_board(self.gh, self.project_id)
        if status is None:
            raise BoardError("the linked board has no single-select field named Status")
        self.field_id = self.field_id or status.id
        self._mapping = resolve_map(status.options, self.names, self.configured)
        return self.field_id, self._mapping

    def move(self, content_id: str, status: Status) -> bool:
        """Put the issue (node id) on the board in the column of `status`. False when the
        board has no column for it."""
        if not content_id:
            raise BoardError("the issue's node id is unknown (the store did not return it)")
        field_id, mapping = self.mapping()
        option = mapping.get(column_for(status))
        if not option:
            return False
        items = self._load_items()
        item = items.get(content_id)
        if item is not None:
            try:
                self._set(item, field_id, option)
                return True
            except NotFound:
                pass  # the item was removed from the board: add it again
        item = self.add(content_id)
        self._set(item, field_id, option)
        return True

    def add(self, content_id: str) -> str:
        data = self._graphql(_ADD, {"project": self.project_id, "content": content_id}) or {}
        item = str(((data.get("addProjectV2ItemById") or {}).get("item") or {}).get("id") or "")
        if not item:
            raise BoardError("GitHub did not return the board item it added")
        self._remember(content_id, item)
        return item

    def _set(self, item: str, field_id: str, option: str) -> None:
        self._graphql(
            _SET, {"project": self.project_id, "item": item, "field": field_id, "option": option}
        )

    def items(self) -> list[tuple[str, str, int | None, str | None]]:
        """Every item: (item id, content node id, number, option id of Status)."""
        out: list[tuple[str, str, int | None, str | None]] = []
        cursor: str | None = None
        while True:
            data = self._graphql(_ITEMS, {"id": self.project_id, "cursor": cursor}) or {}
            conn = ((data.get("node") or {}).get("items")) or {}
            for node in conn.get("nodes") or []:
                content = node.get("content") or {}
                value = node.get("fieldValueByName") or {}
                number = content.get("number")
                out.append(
                    (
                        str(node["id"]),
                        str(content.get("id") or ""),
                        int(number) if number is not None else None,
                        value.get("optionId"),
                    )
                )
            page = conn.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            cursor = page.get("endCursor")
        for item, content_id, _, _ in out:
            if content_id:
                self._remember(content_id, item, save=False)
        self._save()
        return out

    # the item-id cache -----------------------------------------------------------------

    def _load_items(self) -> dict[str, str]:
        if self._items is None:
            self._items = {}
            if self.cache_file is not None:
                data = read_json(self.cache_file) or {}
                saved = data.get(self.project_id) if isinstance(data, dict) else None
                if isinstance(saved, dict):
                    self._items = {str(k): str(v) for k, v in saved.items()}
        return self._items

    def _remember(self, content_id: str, item: str, *, save: bool = True) -> None:
        self._load_items()[content_id] = item
        if save:
            self._save()

    def _save(self) -> None:
        if self.cache_file is None:
            return

        try:
            data = read_json(self.cache_file) or {}
            if not isinstance(data, dict):
                data = {}
            data[self.project_id] = dict(self._load_items())
            write_json_atomic(self.cache_file, data)
        except OSError as exc:
            log.warning("cannot save the board cache %s: %s", self.cache_file, exc)


def board_cache_file(state_repo_dir: Path) -> Path:
    return state_repo_dir / "board.json"


def status_hook(board: Board, repo: str) -> Any:
    """A tasks.set_status hook that moves the board item; never raises."""

    def hook(issue: Issue, src: Status | None, to: Status, reason: str) -> None:
        if taskid.is_internal(issue.number):
            return  # internal tasks are not on GitHub, so not on its board
        try:
            board.move(issue.node_id, to)
        except Exception as exc:  # a board failure never fails the status change
            detail = exc.message if isinstance(exc, OrchError) else f"{type(exc).__name__}: {exc}"
            log.warning("%s #%s: board not updated (%s)", repo, issue.number, detail)
            Console().warn(f"#{issue.number}: board not updated: {detail}")

    return hook


# -------------------------------------------------------------------------- sync


@dataclass
class SyncChange:
    number: int
    title: str
    column: str
    option: str
    action: str  # added | moved | ok

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "column": self.column,
            "option": self.option,
            "action": self.action,
        }


def sync_board(
    store: Store, config: Config, cache_file: Path | None, *, dry_run: bool = False
) -> list[SyncChange]:
    """Add every open task to the board and set its column."""

    board_id = _configured_id(config)
    board = Board.from_config(_gh(store), config, cache_file)
    assert board is not None
    _, status_field = read_board(_gh(store), board_id)
    if status_field is None:
        raise BoardError(
            "the linked board has no single-select field named Status; add one on GitHub"
        )
    field_id = config.gh.project_status_field_id or status_field.id
    mapping = resolve_map(
        status_field.options, config.gh.project_status_names, config.gh.project_status_map
    )
    names = dict(status_field.options)
    current = {content: (item, option) for item, content, _, option in board.items()}
    changes: list[SyncChange] = []
    for issue in store.list_issues(state="open"):
        status = L.status_of(issue.labels)
        if status is None:
            continue
        column = column_for(status)
        option = mapping.get(column)
        if not option:
            continue
        shown = names.get(option, column)
        found = current.get(issue.node_id)
        if found is not None and found[1] == option:
            changes.append(SyncChange(issue.number, issue.title, column, shown, "ok"))
            continue
        action = "moved" if found is not None else "added"
        if not dry_run:
            item = found[0] if found is not None else board.add(issue.node_id)
            board._set(item, field_id, option)
        changes.append(SyncChange(issue.number, issue.title, column, shown, action))
    return changes
