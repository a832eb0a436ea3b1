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
from orch.commands import startup
from orch.errors import EXIT_CODES, EXIT_INTERNAL, EXIT_USAGE, OrchError, UsageError

startup.install()  # no pydantic import for default and plain-string values

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
    from orch import output
    from orch.deps import Deps
    from orch.output import Console

    if not ctx.resilient_parsing:  # shell completion parses without running anything
        output.reset()

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
        completion,
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
    app.command("completion", help=completion.__doc__)(completion.command)
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


# Global options, accepted after the sub-command too (`orch task list -v`), as gh does.
GLOBAL_FLAGS = frozenset({"-v", "--verbose", "-q", "--quiet"})
GLOBAL_VALUED = frozenset({"--project", "--config"})


def split_globals(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the global options with their values, the rest of `argv` in order): the globals
    found after the sub-command go in front of it."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest += argv[index:]
            break
        if arg in GLOBAL_FLAGS or ("=" in arg and arg.split("=", 1)[0] in GLOBAL_VALUED):
            front.append(arg)
        elif arg in GLOBAL_VALUED and index + 1 < len(argv):
            front += argv[index : index + 2]
            index += 1
        else:
            rest.append(arg)
        index += 1
    return front, rest


def take_jq(argv: list[str]) -> tuple[list[str], str | None]:
    """(`argv` with `--jq EXPR` replaced by `--json`, EXPR); the last --jq wins."""
    out: list[str] = []
    expression: str | None = None
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            out += argv[index:]
            break
        if arg == "--jq":
            if index + 1 >= len(argv):
                raise UsageError("--jq needs an expression, e.g. --jq '.tasks[].number'")
            expression = argv[index + 1]
            index += 2
            continue
        if arg.startswith("--jq="):
            expression = arg[len("--jq=") :]
        else:
            out.append(arg)
        index += 1
    if expression is not None and "--json" not in out:
        out.append("--json")
    return out, expression


def build_command(argv: list[str] | None = None) -> Any:
    """The click command tree of `app`, with orch's help conventions applied (the choices
    of options only when `argv` may print a help page: they cost an import)."""
    from orch.commands._common import polish

    command = typer.main.get_command(app)
    polish(command, help_pages=argv is None or _may_show_help(command, argv))
    return command


def _may_show_help(command: Any, argv: list[str]) -> bool:
    """Whether `argv` asks for a help page (-h, or a group named without a sub-command)."""
    if "-h" in argv or "--help" in argv:
        return True
    for arg in argv:
        subs = getattr(command, "commands", None) or {}
        if arg not in subs:
            return False
        command = subs[arg]
    return bool(getattr(command, "commands", None))


def _prepare(command: Any, argv: list[str]) -> list[str]:
    from orch import output
    from orch.commands._common import compile_jq, takes_json

    front, rest = split_globals(argv)
    rest, expression = take_jq(rest)
    program = None
    if expression is not None:
        if not takes_json(command, rest):  # the command's words, global values aside
            raise UsageError("--jq works only with commands that have --json")
        program = compile_jq(expression)
    output.start(program)
    return front + rest


def run(argv: list[str] | None = None, obj: object = None) -> int:
    """Run orch with `argv`; return the exit code instead of exiting (tests use this)."""
    click_exc = _click_exceptions()
    exits = tuple({typer.Exit, getattr(click_exc, "Exit", typer.Exit)})
    aborts = tuple({typer.Abort, getattr(click_exc, "Abort", typer.Abort), KeyboardInterrupt})
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        command = build_command(args)
        from orch.commands import completion

        if completion.requested():
            completion.enable()
        result = command.main(
            args=_prepare(command, args),
            prog_name="orch",
            standalone_mode=False,
            obj=obj,
        )
        return result if isinstance(result, int) else 0
    except click_exc.NoArgsIsHelpError as exc:
        sys.stdout.write(exc.ctx.get_help() + "\n")
        return 0
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
