"""Any other agent CLI from config: `{command: [...], input: stdin|arg, output: text|json}`.

The prompt (system prompt first) goes on stdin or as the last argument. orch tells the
program what it wants through the environment: `ORCH_MODE`, `ORCH_MODEL` (when set) and
`ORCH_RESULT_SCHEMA` (a JSON Schema file in the attempt's work_dir). Output `json`: the
last JSON object printed (or JSON lines); `text`: the last JSON object in the text.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from orch.agents.base import (
    Adapter,
    AgentOutcome,
    BuildRequest,
    Draft,
    Mode,
    ProcessOutput,
    Usage,
    concluded,
    joined_prompt,
)
from orch.agents.classify import Evidence
from orch.agents.events import as_float, as_int
from orch.agents.result import json_objects, pick_result, schema_text

SCHEMA_FILE = "result-schema.json"


class CommandAdapter(Adapter):
    def draft(self, request: BuildRequest) -> Draft:
        message = joined_prompt(request.system_prompt, request.prompt)
        argv = [*self.agent.command, *self.agent.extra_args]
        extra: dict[str, str] = {"ORCH_MODE": request.mode}
        if request.model:
            extra["ORCH_MODEL"] = request.model
        files: dict[Path, str] = {}
        if request.schema is not None:
            schema_file = request.work_dir / SCHEMA_FILE
            files[schema_file] = schema_text(request.schema) + "\n"
            extra["ORCH_RESULT_SCHEMA"] = str(schema_file)
        if self.agent.input == "arg":
            return Draft(argv=[*argv, message], stdin=None, env=extra, files=files)
        return Draft(argv=argv, stdin=message, env=extra, files=files)

    def read(self, output: ProcessOutput, mode: Mode, now: datetime | None) -> AgentOutcome:
        stdout = output.stdout
        structured: Any = None
        usage = Usage()
        if self.agent.output == "json":
            objects = [o for o in json_objects(stdout) if isinstance(o, dict)]
            if objects:
                structured = (
                    objects[-1].get("result", objects[-1])
                    if isinstance(objects[-1].get("result"), dict)
                    else objects[-1]
                )
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
            exit_code=output.exit_code,
            timed_out=output.timed_out,
            idle_killed=output.idle_killed,
            stderr=output.stderr,
            unstructured=stdout,
            has_result=result is not None,
            result_problem=problem,
        )
        return concluded(evidence, now, result=result, usage=usage, final_text=final_text[-20000:])
