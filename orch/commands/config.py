"""`orch config get|show|path`: the merged configuration and where it comes from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from orch.commands._common import JsonOpt, deps, group

app = group("config", "Show the configuration and where it lives.")


def _config(ctx: typer.Context) -> Any:
    """The project's merged config inside a checkout, else the global one alone."""
    from orch.errors import OrchError

    d = deps(ctx)
    try:
        return d.project().config
    except OrchError as exc:
        if d.project_spec or "not inside a git repository" not in exc.message:
            raise
        return d.global_config()


@app.command("get")
def get(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. workflow.max_parallel.")],
) -> None:
    """Print one merged value (scalars as text, others as JSON)."""
    import json as jsonlib

    from orch.errors import UsageError

    config = _config(ctx)
    try:
        value = config.get(key)
    except KeyError:
        raise UsageError(f"unknown config key {key!r}; see `orch config show`") from None
    if isinstance(value, str):
        typer.echo(value)
    elif value is None:
        typer.echo("null")
    else:
        typer.echo(
            jsonlib.dumps(value, sort_keys=True, default=str)
            if not isinstance(value, bool | int | float)
            else jsonlib.dumps(value)
        )


@app.command("show")
def show(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Print the merged configuration (defaults < global file < project file)."""
    from orch.output import emit_json

    config = _config(ctx)
    data = _plain(config.raw)
    if json:
        emit_json({"config": data, "files": _files(ctx, config)})
        return
    import yaml

    for line in _files_lines(ctx, config):
        typer.echo(f"# {line}")
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True).rstrip())


@app.command("path")
def path(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Print where orch reads config and keeps state."""
    from orch.output import emit_json

    d = deps(ctx)
    info = {
        "global_config": str(d.global_file),
        "state_dir": str(d.paths.state_dir),
        "log_file": str(d.paths.log_file),
    }
    try:
        project = d.project()
        info["project_config"] = str(project.root / ".orch.yml")
    except Exception:  # outside a checkout there is simply no project file
        info["project_config"] = None  # type: ignore[assignment]
    if json:
        emit_json(info)
        return
    for key, value in info.items():
        typer.echo(f"{key}: {value if value is not None else '-'}")


def _plain(value: Any) -> Any:
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _files(ctx: typer.Context, config: Any) -> dict[str, Any]:
    return {
        "global": str(config.global_file) if config.global_file else None,
        "global_exists": bool(config.global_file and config.global_file.exists()),
        "project": str(config.project_file) if config.project_file else None,
        "project_exists": bool(config.project_file and config.project_file.exists()),
    }


def _files_lines(ctx: typer.Context, config: Any) -> list[str]:
    files = _files(ctx, config)
    lines = []
    for kind in ("global", "project"):
        if files[kind]:
            state = "" if files[f"{kind}_exists"] else " (absent)"
            lines.append(f"{kind}: {files[kind]}{state}")
    return lines
