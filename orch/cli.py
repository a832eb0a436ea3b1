"""The `orch` command: wires the command groups together and maps errors to exit codes.

This is the only place that turns exceptions into process exits (SPEC §3.1). Expected
failures (OrchError) print one line; anything else is a bug: the traceback goes to the
log and a short message to stderr, exit 3.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from orch import __version__
from orch.errors import EXIT_CODES, EXIT_INTERNAL, EXIT_USAGE, OrchError

# "\b" keeps click from re-wrapping the table.
EPILOG = "Exit codes:\n\n\b\n" + "\n".join(f"  {code:<3} {text}" for code, text in EXIT_CODES)

app = typer.Typer(
    name="orch",
    help="Turn GitHub issues into pull requests by delegating them to AI coding agent CLIs.",
    epilog=EPILOG,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"orch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            metavar="PATH|OWNER/REPO",
            help="Project checkout PATH or registered OWNER/REPO.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="Global config file (default: <config dir>/config.yml).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="Say more on stderr.")] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Say nothing but errors on stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Turn GitHub issues into pull requests by delegating them to AI coding agent CLIs."""
    from orch.deps import Deps
    from orch.output import Console

    if isinstance(ctx.obj, Deps):  # tests inject their own
        deps = ctx.obj
        deps.console = Console(quiet=quiet, verbose=verbose)
    else:
        deps = Deps(console=Console(quiet=quiet, verbose=verbose))
    deps.config_file = config or deps.config_file
    deps.project_spec = project or deps.project_spec
    ctx.obj = deps


def _register() -> None:
    from orch.commands import (
        agents,
        chat,
        commit,
        config,
        cooldown,
        demo,
        doctor,
        init,
        job,
        log,
        notify,
        project,
        prune,
        service,
        stats,
        stream,
        task,
        tick,
    )

    app.command("init", help=init.__doc__)(init.command)
    app.command("tick", help=tick.__doc__)(tick.command)
    app.add_typer(task.app, name="task")
    app.add_typer(job.app, name="job")
    app.add_typer(project.app, name="project")
    app.add_typer(service.app, name="service")
    app.command("agents", help=agents.__doc__)(agents.command)
    app.add_typer(cooldown.app, name="cooldown")
    app.add_typer(config.app, name="config")
    app.command("doctor", help=doctor.__doc__)(doctor.command)
    app.command("log", help=log.__doc__)(log.command)
    app.command("stats", help=stats.__doc__)(stats.command)
    app.command("demo", help=demo.__doc__)(demo.command)
    app.command("notify", help=notify.__doc__)(notify.command)
    app.command("prune", help=prune.__doc__)(prune.command)
    app.command("stream", help=stream.__doc__)(stream.command)
    app.command("chat", help=chat.__doc__)(chat.command)
    app.command("commit", help=commit.__doc__)(commit.command)


_register()


def _click_exceptions() -> Any:
    """The click exception module typer uses (recent typer vendors click as typer._click)."""
    import importlib

    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise RuntimeError("typer has no click exceptions module")  # pragma: no cover


def run(argv: list[str] | None = None, obj: object = None) -> int:
    """Run orch with `argv`; return the exit code instead of exiting (tests use this)."""
    click_exc = _click_exceptions()
    exits = tuple({typer.Exit, getattr(click_exc, "Exit", typer.Exit)})
    aborts = tuple({typer.Abort, getattr(click_exc, "Abort", typer.Abort), KeyboardInterrupt})
    try:
        command = typer.main.get_command(app)
        result = command.main(args=argv, prog_name="orch", standalone_mode=False, obj=obj)
        return result if isinstance(result, int) else 0
    except OrchError as exc:
        sys.stderr.write(f"orch: {exc.message}\n")
        return exc.exit_code
    except exits as exc:
        return int(exc.exit_code)
    except click_exc.ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, click_exc.UsageError) else int(exc.exit_code)
    except aborts:
        sys.stderr.write("orch: interrupted\n")
        return 130
    except BrokenPipeError:
        # `orch task list | head`: the reader went away; that is not an error.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: keep the traceback, show one line
        return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    import logging
    import traceback

    where = "the log"
    try:
        from orch import log
        from orch.paths import default_paths

        paths = default_paths()
        log.setup(paths).error("internal error\n%s", traceback.format_exc())
        where = str(paths.log_file)
    except Exception:  # the log itself may be what is broken
        logging.getLogger("orch").debug("could not write the log", exc_info=True)
    sys.stderr.write(f"orch: internal error: {type(exc).__name__}: {exc} (traceback in {where})\n")
    return EXIT_INTERNAL


def main() -> None:
    sys.exit(run(sys.argv[1:]))
