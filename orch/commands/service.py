"""`orch service`: Run `orch tick` unattended: systemd, launchd or cron."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from orch.commands import prune
from orch.commands._common import DryRunOpt, JsonOpt, deps, group

if TYPE_CHECKING:
    from orch.admin.service import Host, ServiceReport, Step
    from orch.deps import Deps

app = group(
    "service",
    "Run `orch tick` unattended: systemd user timer (Linux), launchd agent (macOS) or a "
    "crontab line (--cron). The units run bin/orch-tick, which sets PATH, loads "
    "<config>/env (put GH_TOKEN there, mode 600; never in a unit) and runs `orch tick`.",
)


def _host(d: Deps) -> Host:
    from orch.admin.service import Host

    return Host.current(d.paths)


def _shown(report: ServiceReport, step: Step) -> bool:
    """--dry-run prints what each write would put in its file, indented under it."""
    return report.dry_run and bool(step.content)


def _render(d: Deps, report: ServiceReport, json: bool) -> None:
    from orch.errors import OrchError
    from orch.output import emit_json

    if json:
        emit_json(report.to_json())
    else:
        for step in report.steps:
            if step.action == "note":
                d.console.note(step.target)
            else:
                d.console.out(step.line(report.dry_run) + (":" if _shown(report, step) else ""))
                if _shown(report, step):
                    for line in step.content.rstrip("\n").splitlines():
                        d.console.out(f"    {line}".rstrip())
    if not report.ok:
        failed = next(s for s in report.steps if not s.ok)
        raise OrchError(
            f"{failed.target} failed: {failed.detail or 'see above'}; the files are written, "
            "fix the cause and run the command again"
        )


@app.command("install")
def install(
    ctx: typer.Context,
    interval: Annotated[
        int, typer.Option("--interval", metavar="S", help="Seconds between ticks.")
    ] = 60,
    cron: Annotated[
        bool,
        typer.Option("--cron", help="Install a crontab line instead of a systemd/launchd unit."),
    ] = False,
    dry_run: DryRunOpt = False,
    json: JsonOpt = False,
) -> None:
    """Install and enable the timer (safe to repeat).

    systemd user units on Linux, a launchd agent on macOS, a crontab line with --cron.
    """
    from orch.admin.service import install as do_install
    from orch.errors import OrchError

    d = deps(ctx)
    _render(d, do_install(_host(d), interval=interval, cron=cron, dry_run=dry_run), json)
    try:
        registered = d.global_config().projects
    except OrchError:
        registered = ()
    if not registered:
        d.console.note(
            "no project is registered: the timer's `orch tick` has nothing to do until you run "
            "`orch init` (or `orch project add PATH`) for each project"
        )


@app.command("uninstall")
def uninstall(ctx: typer.Context, dry_run: DryRunOpt = False, json: JsonOpt = False) -> None:
    """Remove exactly what install wrote."""
    from orch.admin.service import uninstall as do_uninstall

    d = deps(ctx)
    _render(d, do_uninstall(_host(d), dry_run=dry_run), json)


@app.command("status")
def status(ctx: typer.Context, json: JsonOpt = False) -> None:
    """Installed? enabled? last run and its exit code, next run."""
    from orch.admin.service import status as get_status
    from orch.output import emit_json

    d = deps(ctx)
    st = get_status(_host(d), d.clock.now())
    if json:
        emit_json(st.to_json())
        return

    def yes(value: bool | None) -> str:
        return "unknown" if value is None else ("yes" if value else "no")

    d.console.out(f"installed: {yes(st.installed)}" + (f" ({st.kind})" if st.kind else ""))
    if st.installed:
        d.console.out(f"enabled:   {yes(st.enabled)}")
        d.console.out(f"interval:  {st.interval}s" if st.interval else "interval:  -")
    last = f"{st.last_run} (exit {st.last_exit})" if st.last_run else "never"
    d.console.out(f"last run:  {last}")
    if st.installed:
        d.console.out(f"next run:  {st.next_run or '-'}")
    if st.detail:
        d.console.note(st.detail)


@app.command("start")
def start(ctx: typer.Context, dry_run: DryRunOpt = False, json: JsonOpt = False) -> None:
    """Resume the installed timer."""
    from orch.admin.service import start_stop

    d = deps(ctx)
    _render(d, start_stop(_host(d), True, dry_run=dry_run), json)


@app.command("stop")
def stop(ctx: typer.Context, dry_run: DryRunOpt = False, json: JsonOpt = False) -> None:
    """Pause the timer (running agents finish)."""
    from orch.admin.service import start_stop

    d = deps(ctx)
    _render(d, start_stop(_host(d), False, dry_run=dry_run), json)


app.command("prune", help=prune.__doc__)(prune.command)  # the same as `orch prune`
