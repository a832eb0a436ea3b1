"""GitHub access through the real `gh` CLI: the only module that builds gh argv (SPEC §9).

Every call is `gh api` in machine mode (no TTY, `GH_PROMPT_DISABLED=1`,
`GH_NO_UPDATE_NOTIFIER=1`, `NO_COLOR=1`) with `-i`, so the status line and headers
(`X-RateLimit-Reset`, `Retry-After`, `Link`) are read instead of gh's error prose. JSON
bodies go on stdin (`--input -`). Pagination is explicit (`per_page=100`, follow
`Link: rel="next"`).

Failures become the typed errors of `orch.errors`: `NotFound`, `AuthError` (exit 4),
`RateLimited(reset_at)`, `SecondaryRateLimited(retry_after)`, `Transient`, `GhMissing`.

Backoff (shared by every orch process of the host through `paths.backoff_file(host)`):
- after a rate limit the file records until when GitHub refuses us; every call reads it
  first. `wait` mode sleeps (through the Clock) until then if that is at most
  `backoff.max_seconds` away, else raises `RateLimited`; `skip` mode raises at once, so
  the first call of a command fails before anything was written (the CLI exits 75).
  Primary limit: until `X-RateLimit-Reset` (or `base_seconds` if absent). Secondary limit:
  `Retry-After` seconds (or `2 × base_seconds`: 60 s by default, as GitHub advises).
- transient failures (5xx, connection refused, timeouts) are retried up to
  `TRANSIENT_RETRIES` times after `base_seconds / 15 × 2**n` seconds (2 s, 4 s, 8 s with
  the default 30 s; capped at 30 s), each jittered down to half. Writes that may have
  reached GitHub (a POST answered 5xx) are not retried: a duplicate comment is worse than
  a failed step that the next tick redoes.

The host goes to gh as `--hostname HOST`; gh 2.23 rejects a host with a port there, so
`HOST:PORT` (the test emulator) goes as `GH_HOST` instead. Any other host than github.com
is Enterprise to gh: URLs `https://HOST/api/v3/`, token from `GH_ENTERPRISE_TOKEN`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit

from orch.clock import parse_iso, utc_iso
from orch.errors import (
    AuthError,
    GhMissing,
    GitHubError,
    NotFound,
    RateLimited,
    SecondaryRateLimited,
    Transient,
)
from orch.io import proc
from orch.io.sidecar import read_versioned, write_versioned

if TYPE_CHECKING:
    from orch.clock import Clock
    from orch.config.model import BackoffConfig
    from orch.paths import Paths

log = logging.getLogger("orch")

GITHUB_COM = "github.com"
PER_PAGE = 100
TRANSIENT_RETRIES = 3
TRANSIENT_DIVISOR = 15.0  # first transient delay = base_seconds / 15 (2 s for 30 s)
TRANSIENT_CAP_SECONDS = 30.0
RATE_LIMIT_RETRIES = 3  # rate-limit waits within one call before giving up
CALL_TIMEOUT_SECONDS = 120.0
BACKOFF_SCHEMA = 1
ACCEPT = "application/vnd.github+json"

_UNREACHED_RE = re.compile(
    r"connection refused|no such host|network is unreachable|error connecting to", re.I
)
_TRANSIENT_RE = re.compile(
    r"connection refused|no such host|network is unreachable|i/o timeout|timeout|"
    r"connection reset|broken pipe|unexpected EOF|\bEOF\b|HTTP 5\d\d",
    re.I,
)
_AUTH_RE = re.compile(r"gh auth login|Bad credentials|Requires authentication|HTTP 401", re.I)
_TLS_RE = re.compile(r"x509|certificate", re.I)
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"})


class GhHTTPError(GitHubError):
    """GitHub answered with an error status orch has no special type for (e.g. 422)."""

    def __init__(self, message: str, status: int, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.data = data

    def error_codes(self) -> list[str]:
        """The `errors[].code` values of a 422 Validation Failed body."""
        errors = self.data.get("errors") if isinstance(self.data, dict) else None
        return [str(e.get("code")) for e in errors or [] if isinstance(e, dict)]

    def error_messages(self) -> list[str]:
        errors = self.data.get("errors") if isinstance(self.data, dict) else None
        return [
            str(e.get("message")) for e in errors or [] if isinstance(e, dict) and e.get("message")
        ]


class ConnectionFailed(Transient):
    """The request never reached GitHub (connection refused, unknown host)."""


@dataclass(frozen=True)
class GhResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    data: Any = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def next_link(self) -> str | None:
        """The URL of `Link: <...>; rel="next"`, if any."""
        for part in (self.header("link") or "").split(","):
            match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', part)
            if match:
                return match.group(1)
        return None


class GhAuth(Protocol):
    """Credentials orch hands to gh itself (orch.io.ghapp.AppAuth, the GitHub App)."""

    def gh_env(self) -> Mapping[str, str]:
        """Variables for one gh subprocess (never orch's own environment)."""
        ...

    def rejected(self) -> str:
        """GitHub refused them: forget what is cached; the message for the user."""
        ...

    def login(self) -> str:
        """The login these credentials act as (`<app-slug>[bot]`), "" when not known."""
        ...


class Gh:
    """`gh api` for one GitHub host, with typed errors and the shared backoff file."""

    def __init__(
        self,
        host: str,
        backoff: BackoffConfig,
        paths: Paths,
        clock: Clock,
        env: Mapping[str, str] | None = None,
        *,
        rng: random.Random | None = None,
        timeout: float = CALL_TIMEOUT_SECONDS,
        auth: GhAuth | None = None,
    ) -> None:
        self.host = host or GITHUB_COM
        self.backoff = backoff
        self.paths = paths
        self.clock = clock
        self.env = dict(env) if env is not None else None
        self.rng = rng or random.Random()
        self.timeout = timeout
        # The GitHub App (orch.io.ghapp): its token goes to each gh subprocess only.
        self.auth = auth
        self._gh_path: str | None = None

    # ------------------------------------------------------------------ public API

    def rest(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        paginate: bool = False,
    ) -> Any:
        """One REST call; the decoded JSON answer (None for 204). With `paginate`, every
        page is fetched (per_page=100 unless given) and the lists are concatenated."""
        if not paginate:
            return self.request(method, path, params=params, body=body).data
        params = {"per_page": PER_PAGE, **(params or {})}
        items: list[Any] = []
        endpoint: str | None = _endpoint(path, params)
        while endpoint:
            response = self._call(method, endpoint, body)
            if not isinstance(response.data, list):
                raise GitHubError(
                    f"gh api {endpoint}: expected a list from GitHub, got "
                    f"{type(response.data).__name__}"
                )
            items.extend(response.data)
            link = response.next_link()
            endpoint = _link_endpoint(link) if link else None
        return items

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> GhResponse:
        """One REST call; the whole response (status, headers, data). A 304 (with an
        `If-None-Match` header) is returned, not raised."""
        return self._call(method, _endpoint(path, params), body, headers=headers)

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> Any:
        """One GraphQL request; its `data`. GraphQL `errors` become typed errors."""
        response = self.graphql_response(query, variables)
        data = response.data if isinstance(response.data, dict) else {}
        return data.get("data")

    def graphql_response(
        self, query: str, variables: Mapping[str, Any] | None = None
    ) -> GhResponse:
        """One GraphQL request; the whole response (headers too: `Date` is the server's
        time). GraphQL `errors` become typed errors."""
        body = {"query": query, "variables": dict(variables or {})}
        return self._call("POST", "graphql", body, graphql=True)

    def describe(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None
    ) -> str:
        """The gh command a call would run, for `--dry-run` output."""
        text = f"gh api --method {method.upper()} {_endpoint(path, params)}"
        if body is not None:
            text += " --input - <<< " + json.dumps(body, sort_keys=True, ensure_ascii=False)
        return text

    # ------------------------------------------------------------------ the call loop

    def _call(
        self,
        method: str,
        endpoint: str,
        body: Any,
        *,
        graphql: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> GhResponse:
        method = method.upper()
        idempotent = method in _IDEMPOTENT or (
            graphql and not str(body.get("query", "")).lstrip().startswith("mutation")
        )
        transient_tries = 0
        rate_tries = 0
        while True:
            self._respect_backoff()
            try:
                return self._once(method, endpoint, body, graphql=graphql, headers=headers)
            except RateLimited as exc:
                until = self._record_backoff(exc)
                rate_tries += 1
                wait = (until - self.clock.now()).total_seconds()
                if (
                    self.backoff.mode != "wait"
                    or rate_tries > RATE_LIMIT_RETRIES
                    or wait > self.backoff.max_seconds
                ):
                    raise self._deferred(exc, until) from None
                # loop: _respect_backoff sleeps until `until`, then we try again
            except Transient as exc:
                retry = idempotent or isinstance(exc, ConnectionFailed)
                if not retry or transient_tries >= TRANSIENT_RETRIES:
                    raise
                delay = min(
                    self.backoff.base_seconds / TRANSIENT_DIVISOR * 2**transient_tries,
                    TRANSIENT_CAP_SECONDS,
                )
                delay *= self.rng.uniform(0.5, 1.0)
                log.debug("gh %s %s: %s; retrying in %.2fs", method, endpoint, exc, delay)
                transient_tries += 1
                self.clock.sleep(delay)

    def _once(
        self,
        method: str,
        endpoint: str,
        body: Any,
        *,
        graphql: bool,
        headers: Mapping[str, str] | None,
    ) -> GhResponse:
        argv = [self._gh(), "api", "--method", method, "-i", "-H", f"Accept: {ACCEPT}"]
        if ":" not in self.host:
            argv += ["--hostname", self.host]
        for key, value in (headers or {}).items():
            argv += ["-H", f"{key}: {value}"]
        argv.append(endpoint)
        stdin = None
        if body is not None:
            argv += ["--input", "-"]
            stdin = json.dumps(body)
        started = self.clock.monotonic()
        result = proc.run(argv, env=self._env(), input=stdin, timeout=self.timeout)
        elapsed = self.clock.monotonic() - started
        response = _parse_output(result.stdout)
        status = response.status if response else None
        log.debug(
            "gh api %s %s -> %s in %.2fs",
            method,
            endpoint,
            status if status is not None else f"exit {result.returncode}",
            elapsed,
        )
        if result.timed_out:
            raise Transient(
                f"gh api {method} {endpoint} timed out after {self.timeout:.0f}s "
                f"talking to {self.host}; try again later"
            )
        if response is None:
            if result.returncode == 0:
                raise GitHubError(
                    f"gh api {method} {endpoint}: unreadable answer from gh; "
                    "check `gh --version` (orch needs gh >= 2.20)"
                )
            raise self._stderr_error(method, endpoint, result.returncode, result.stderr)
        self._raise_for_status(method, endpoint, response)
        if graphql:
            self._raise_for_graphql(response)
        return response

    # ------------------------------------------------------------------ classification

    def _raise_for_status(self, method: str, endpoint: str, response: GhResponse) -> None:
        status = response.status
        if status < 400 or status == 304:
            return
        message = _message(response.data) or f"HTTP {status}"
        where = f"{method} {endpoint.split('?')[0]}"
        if status == 401:
            raise self._auth_error(rejected="Requires authentication" not in message)
        if status in (403, 429):
            if response.header("x-ratelimit-remaining") == "0" and "secondary" not in message:
                raise RateLimited(message, _reset_at(response))
            retry_after = _float(response.header("retry-after"))
            if status == 429 or retry_after is not None or "secondary rate limit" in message:
                raise SecondaryRateLimited(message, retry_after)
            raise GhHTTPError(
                f"GitHub refused {where} on {self.host}: {message}; check that "
                "the token may write to this repository",
                status,
                response.data,
            )
        if status in (404, 410):
            raise NotFound(
                f"not found on {self.host}: {where}; check the repository name "
                "and that the token can see it"
            )
        if status >= 500:
            raise Transient(
                f"GitHub {self.host} failed on {where} (HTTP {status}: {message}); try again later"
            )
        probe = GhHTTPError("", status, response.data)
        details = "; ".join([*probe.error_messages(), *probe.error_codes()])
        raise GhHTTPError(
            f"GitHub rejected {where} (HTTP {status}: {message}"
            f"{': ' + details if details else ''})",
            status,
            response.data,
        )

    def _raise_for_graphql(self, response: GhResponse) -> None:
        data = response.data if isinstance(response.data, dict) else {}
        errors = [e for e in data.get("errors") or [] if isinstance(e, dict)]
        if not errors:
            return
        first = errors[0]
        message = str(first.get("message") or "GraphQL error")
        kinds = {str(e.get("type") or "") for e in errors}
        if "RATE_LIMITED" in kinds:
            raise RateLimited(message, _reset_at(response))
        if kinds == {"NOT_FOUND"}:
            raise NotFound(f"{message} ({self.host})")
        raise GitHubError(f"GitHub GraphQL error on {self.host}: {message}")

    def _stderr_error(self, method: str, endpoint: str, code: int, stderr: str) -> Exception:
        text = " ".join(stderr.split())
        where = f"{method} {endpoint.split('?')[0]}"
        if code == 4 or _AUTH_RE.search(text):
            return self._auth_error(rejected="Bad credentials" in text)
        if _TLS_RE.search(text):
            return GitHubError(
                f"cannot verify the TLS certificate of {self.host} ({text}): "
                "install the CA or set SSL_CERT_FILE"
            )
        if _UNREACHED_RE.search(text):
            return ConnectionFailed(
                f"cannot reach {self.host} for {where} ({text}); check the "
                "network and gh.host, then try again"
            )
        if _TRANSIENT_RE.search(text):
            return Transient(f"talking to {self.host} failed for {where} ({text}); try again later")
        return GitHubError(f"gh api {where} failed (exit {code}): {text or 'no message'}")

    def _auth_error(self, *, rejected: bool) -> AuthError:
        if self.auth is not None:
            return AuthError(self.auth.rejected())
        var = "GH_TOKEN" if self.host == GITHUB_COM else "GH_ENTERPRISE_TOKEN"
        what = "GitHub rejected the token for" if rejected else "not logged in to GitHub at"
        return AuthError(
            f"{what} {self.host}: run 'gh auth login --hostname {self.host}' or set {var}"
        )

    # ------------------------------------------------------------------ backoff file

    def backoff_until(self) -> datetime | None:
        """Until when the shared backoff file says GitHub refuses us (None: not limited)."""

        data = read_versioned(self.paths.backoff_file(self.host), BACKOFF_SCHEMA)
        if not data or not isinstance(data.get("until"), str):
            return None
        try:
            until = parse_iso(data["until"])
        except ValueError:
            return None
        return until if until > self.clock.now() else None

    def _respect_backoff(self) -> None:
        until = self.backoff_until()
        if until is None:
            return
        wait = (until - self.clock.now()).total_seconds()
        if self.backoff.mode != "wait" or wait > self.backoff.max_seconds:
            raise self._deferred(None, until)
        log.info(
            "GitHub rate limit for %s: waiting %.1fs (until %s)", self.host, wait, utc_iso(until)
        )
        self.clock.sleep(wait)

    def _record_backoff(self, exc: RateLimited) -> datetime:

        now = self.clock.now()
        if isinstance(exc, SecondaryRateLimited):
            seconds = (
                exc.retry_after if exc.retry_after is not None else (2 * self.backoff.base_seconds)
            )
            until = now + timedelta(seconds=seconds)
            reason = "secondary"
        else:
            until = exc.reset_at or now + timedelta(seconds=self.backoff.base_seconds)
            reason = "primary"
        until = max(until, now)
        current = self.backoff_until()
        if current is not None and current > until:
            return current
        write_versioned(
            self.paths.backoff_file(self.host),
            BACKOFF_SCHEMA,
            {
                "host": self.host,
                "until": _iso_precise(until),
                "reason": reason,
                "recorded_at": _iso_precise(now),
                "message": str(exc),
            },
        )
        return until

    def _deferred(self, exc: RateLimited | None, until: datetime) -> RateLimited:
        mode = self.backoff.mode
        why = (
            "skip mode"
            if mode != "wait"
            else (f"more than backoff.max_seconds={self.backoff.max_seconds:g}s away")
        )
        message = (
            f"GitHub rate limit for {self.host} until {utc_iso(until)} ({why}): "
            "nothing was changed; run again later"
        )
        if isinstance(exc, SecondaryRateLimited):
            return SecondaryRateLimited(message, exc.retry_after, until)
        return RateLimited(message, until)

    # ------------------------------------------------------------------ environment

    def _env(self) -> dict[str, str]:
        env = dict(self.env if self.env is not None else os.environ)
        # GH_HOST stays: `--hostname` wins over it, and gh's own token variables
        # (GH_TOKEN, GH_ENTERPRISE_TOKEN, GITHUB_TOKEN, …) pass through untouched.
        for name in ("GH_FORCE_TTY", "CLICOLOR_FORCE", "GH_PAGER", "PAGER"):
            env.pop(name, None)
        if ":" in self.host:
            # gh rejects `--hostname HOST:PORT`; GH_HOST accepts it.
            env["GH_HOST"] = self.host
        env.update({"GH_PROMPT_DISABLED": "1", "GH_NO_UPDATE_NOTIFIER": "1", "NO_COLOR": "1"})
        if self.auth is not None:
            env.update(self.auth.gh_env())
        return env

    def _gh(self) -> str:
        if self._gh_path is None:
            env = self.env if self.env is not None else os.environ
            found = proc.which("gh", path=env.get("PATH", ""))
            if found is None:
                raise GhMissing(
                    "gh is not installed: install GitHub CLI "
                    "(https://cli.github.com) and run 'gh auth login'"
                )
            self._gh_path = found
        return self._gh_path


# ---------------------------------------------------------------------- pure helpers


def _endpoint(path: str, params: Mapping[str, Any] | None) -> str:
    endpoint = path.lstrip("/")
    if params:
        pairs = [(k, _param(v)) for k, v in params.items() if v is not None]
        if pairs:
            endpoint += ("&" if "?" in endpoint else "?") + urlencode(pairs)
    return endpoint


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _link_endpoint(url: str) -> str:
    """A `Link` URL as a gh api endpoint (REST prefix removed)."""
    split = urlsplit(url)
    path = split.path
    if path.startswith("/api/v3/"):
        path = path[len("/api/v3/") :]
    path = path.lstrip("/")
    return f"{path}?{split.query}" if split.query else path


def _parse_output(stdout: str) -> GhResponse | None:
    """Split `gh api -i` output into status, headers and decoded JSON body."""
    if not stdout.startswith("HTTP/"):
        return None
    head, _sep, body = stdout.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    data: Any = None
    text = body.strip()
    if text:
        try:
            data = json.loads(text)
        except ValueError:
            data = text
    return GhResponse(status, headers, data)


def _message(data: Any) -> str:
    if isinstance(data, dict):
        if data.get("message"):
            return str(data["message"])
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or "")
    return ""


def _reset_at(response: GhResponse) -> datetime | None:

    reset = _float(response.header("x-ratelimit-reset"))
    return datetime.fromtimestamp(reset, UTC) if reset is not None else None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _iso_precise(moment: datetime) -> str:
    return moment.isoformat()


def gh_version(env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(path of gh, its version number) for `orch doctor`; raises GhMissing without gh."""
    env = env if env is not None else os.environ
    found = proc.which("gh", path=env.get("PATH", ""))
    if found is None:
        raise GhMissing("gh is not installed: install GitHub CLI (https://cli.github.com)")
    result = proc.run([found, "--version"], env=env, timeout=15)
    match = re.search(r"gh version (\d+\.\d+\.\d+)", result.stdout)
    return found, match.group(1) if match else None
