"""Any other agent CLI from config: `{command: [...], input: stdin|arg, output: text|json}`.

The prompt (system prompt first) goes on stdin or as the last argument. orch tells the
program what it wants through the environment: `ORCH_MODE`, `ORCH_MODEL` (when set) and
`ORCH_RESULT_SCHEMA` (a JSON Schema file in the attempt's work_dir). Output `json`: the
last JSON object printed (or JSON lines); `text`: the last JSON object in the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from orch.agents.base import (
    AdapterBase,
    AgentOutcome,
    Invocation,
    Mode,
    Usage,
    check_mode,
    joined_prompt,
)
from orch.agents.classify import Evidence, classify
from orch.agents.events import as_float, as_int
from orch.agents.result import json_objects, pick_result, schema_text

SCHEMA_FILE = "result-schema.json"


class CommandAdapter(AdapterBase):
    def build(
        self,
        mode: Mode,
        *,
        prompt: str,
        system_prompt: str,
        model: str | None,
        cwd: Path,
        work_dir: Path,
        main_git_dir: Path | None = None,
        schema: Mapping[str, Any] | None = None,
        env_base: Mapping[str, str] | None = None,
    ) -> Invocation:
        check_mode(mode)
        message = joined_prompt(system_prompt, prompt)
        argv = [*self.agent.command, *self.agent.extra_args]
        extra: dict[str, str] = {"ORCH_MODE": mode}
        if model:
            extra["ORCH_MODEL"] = model
        files: dict[Path, str] = {}
        if schema is not None:
            schema_file = work_dir / SCHEMA_FILE
            files[schema_file] = schema_text(schema) + "\n"
            extra["ORCH_RESULT_SCHEMA"] = str(schema_file)
        stdin: str | None = message
        if self.agent.input == "arg":
            argv.append(message)
            stdin = None
        return Invocation(
            argv=tuple(argv),
            env=self.env(env_base, extra),
            stdin=stdin,
            cwd=cwd,
            files=files,
            output_file=None,
        )

    def parse(
        self,
        exit_code: int,
        stdout: str,
        stderr: str,
        *,
        timed_out: bool = False,
        idle_killed: bool = False,
        output_file_text: str | None = None,
        mode: Mode = "run",
        now: datetime | None = None,
    ) -> AgentOutcome:
        structured: Any = None
        usage = Usage()
        if self.agent.output == "json":
            objects = [o for o in json_objects(stdout) if isinstance(o, dict)]
            if objects:
                structured = objects[-1].get("result", objects[-1]) if isinstance(
                    objects[-1].get("result"), dict
                ) else objects[-1]
                raw = objects[-1].get("usage")
                if isinstance(raw, dict):
                    usage = Usage(
                        tokens_in=as_int(raw.get("tokens_in")),
                        tokens_out=as_int(raw.get("tokens_out")),
                        cost_usd=as_float(raw.get("cost_usd")),
                        turns=as_int(raw.get("turns")),
                    )
        final_text = stdout.strip()
        result, problem = pick_result(mode, structured, final_text)
        evidence = Evidence(
            exit_code=exit_code,
            timed_out=timed_out,
            idle_killed=idle_killed,
            stderr=stderr,
            unstructured=stdout,
            has_result=result is not None,
            result_problem=problem,
        )
        verdict = classify(evidence, now)
        return AgentOutcome(
            result=result,
            usage=usage,
            final_text=final_text[-20000:],
            error_class=verdict.error_class,
            error_detail=verdict.detail,
            reset_at=verdict.reset_at,
        )


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True)
