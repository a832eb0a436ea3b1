"""orch.io.gh against the real gh and the GitHub emulator: answers, pagination, typed errors
from injected faults, retries, and the backoff file shared by processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orch.config.model import BackoffConfig
from orch.errors import (
    EXIT_AUTH,
    EXIT_DEFERRED,
    AuthError,
    GhMissing,
    GitHubError,
    NotFound,
    RateLimited,
    SecondaryRateLimited,
    Transient,
)
from orch.io.gh import ConnectionFailed, Gh, GhHTTPError
from orch.paths import Paths
from tests.emulator.server import DEFAULT_REPO, Emulator
from tests.helpers import run_orch

COMMENTS = f"repos/{DEFAULT_REPO}/issues/1/comments"


class FakeClock:
    """Starts at the real time; sleeping only moves this clock (and is recorded)."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.offset = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.offset)

    def monotonic(self) -> float:
        return self.offset

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.offset += max(seconds, 0)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths(config_dir=tmp_path / "config", state_dir=tmp_path / "state")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_gh(
    emulator: Emulator,
    env: dict[str, str],
    paths: Paths,
    clock: FakeClock,
    mode: str = "wait",
    max_seconds: float = 30,
    host: str | None = None,
) -> Gh:
    return Gh(host or emulator.host, BackoffConfig(mode, 0.3, max_seconds), paths, clock, env)


# ---------------------------------------------------------------------- answers


def test_rest_reads_writes_and_paginates(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, gh_env, paths, clock)
    for n in range(205):
        emulator.add_issue(f"issue {n}")
    created = gh.rest("POST", COMMENTS, body={"body": "héllo `quoted` $HOME"})
    assert emulator.comments(1)[0]["body"] == "héllo `quoted` $HOME"
    assert created["id"] == emulator.comments(1)[0]["id"]

    emulator.reset_log()
    items = gh.rest("GET", f"repos/{DEFAULT_REPO}/issues", params={"state": "all"}, paginate=True)
    assert [i["number"] for i in items] == list(range(205, 0, -1))
    assert [(r.query.get("page"), r.query["per_page"]) for r in emulator.requests] == [
        (None, "100"),
        ("2", "100"),
        ("3", "100"),
    ]
    assert gh.rest("DELETE", f"repos/{DEFAULT_REPO}/issues/comments/{created['id']}") is None
    assert emulator.comments(1) == []


def test_graphql_returns_data(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, gh_env, paths, clock)
    emulator.add_issue("one", labels=["status:new"])
    data = gh.graphql(
        "query Probe($owner: String!, $name: String!) { viewer { login } "
        "repository(owner: $owner, name: $name) { issues(first: 5, states: OPEN) { "
        "nodes { number labels(first: 5) { nodes { name } } } } } }",
        {"owner": "acme", "name": "widgets"},
    )
    assert data == {
        "viewer": {"login": "owner"},
        "repository": {
            "issues": {"nodes": [{"number": 1, "labels": {"nodes": [{"name": "status:new"}]}}]}
        },
    }
    assert emulator.count("POST", "/graphql", "Probe") == 1


def test_if_none_match_gives_304_not_an_error(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, gh_env, paths, clock)
    first = gh.request("GET", f"repos/{DEFAULT_REPO}")
    etag = first.header("etag")
    assert first.status == 200 and etag
    again = gh.request("GET", f"repos/{DEFAULT_REPO}", headers={"If-None-Match": etag})
    assert (again.status, again.data) == (304, None)


def test_machine_mode_survives_tty_forcing_variables(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    env = {**gh_env, "GH_FORCE_TTY": "1", "CLICOLOR_FORCE": "1", "GH_PAGER": "less"}
    assert make_gh(emulator, env, paths, clock).rest("GET", "user")["login"] == "owner"


def test_describe_shows_the_gh_command(emulator: Emulator, paths: Paths, clock: FakeClock) -> None:
    gh = make_gh(emulator, {}, paths, clock)
    assert gh.describe(
        "post", f"/repos/{DEFAULT_REPO}/issues", params={"x": "1"}, body={"title": "t"}
    ) == (f'gh api --method POST repos/{DEFAULT_REPO}/issues?x=1 --input - <<< {{"title": "t"}}')


# ---------------------------------------------------------------------- typed errors


def test_not_found(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, gh_env, paths, clock)
    with pytest.raises(NotFound, match="repos/acme/nope"):
        gh.rest("GET", "repos/acme/nope")
    with pytest.raises(NotFound, match="Could not resolve to a Repository"):
        gh.graphql('query { repository(owner: "acme", name: "nope") { id } }')


def test_validation_failed_carries_codes(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, gh_env, paths, clock)
    gh.rest("POST", f"repos/{DEFAULT_REPO}/labels", body={"name": "bug"})
    with pytest.raises(GhHTTPError) as info:
        gh.rest("POST", f"repos/{DEFAULT_REPO}/labels", body={"name": "bug"})
    assert (info.value.status, info.value.error_codes()) == (422, ["already_exists"])
    assert str(info.value) == (
        "GitHub rejected POST repos/acme/widgets/labels (HTTP 422: Validation Failed: "
        "already_exists)"
    )


def test_bad_token_is_auth_error_exit_4(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, {**gh_env, "GH_ENTERPRISE_TOKEN": "wrong"}, paths, clock)
    with pytest.raises(AuthError) as info:
        gh.rest("GET", "user")
    assert info.value.exit_code == EXIT_AUTH == 4
    assert str(info.value) == (
        f"GitHub rejected the token for {emulator.host}: run 'gh auth login --hostname "
        f"{emulator.host}' or set GH_ENTERPRISE_TOKEN"
    )
    assert emulator.count(status=401) == 1  # no retry of an auth failure


def test_missing_token_is_auth_error(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    env = {k: v for k, v in gh_env.items() if k != "GH_ENTERPRISE_TOKEN"}
    with pytest.raises(AuthError) as info:
        make_gh(emulator, env, paths, clock).rest("GET", "user")
    assert str(info.value) == (
        f"not logged in to GitHub at {emulator.host}: run 'gh auth login --hostname "
        f"{emulator.host}' or set GH_ENTERPRISE_TOKEN"
    )


def test_not_logged_in_to_github_com_is_exit_4_without_a_request(
    gh_env: dict[str, str], paths: Paths, clock: FakeClock, tmp_path: Path
) -> None:
    # gh itself refuses (exit 4) before any network traffic when it has no token at all.
    env = {k: v for k, v in gh_env.items() if k != "GH_ENTERPRISE_TOKEN"}
    env["GH_CONFIG_DIR"] = str(tmp_path / "empty-gh-config")
    gh = Gh("github.com", BackoffConfig("wait", 0.3, 3), paths, clock, env)
    with pytest.raises(AuthError) as info:
        gh.rest("GET", "user")
    assert info.value.exit_code == 4
    assert str(info.value) == (
        "not logged in to GitHub at github.com: run 'gh auth login --hostname github.com' "
        "or set GH_TOKEN"
    )


def test_gh_missing(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    gh = make_gh(emulator, {**gh_env, "PATH": ""}, paths, clock)
    with pytest.raises(GhMissing) as info:
        gh.rest("GET", "user")
    assert str(info.value) == (
        "gh is not installed: install GitHub CLI (https://cli.github.com) and run 'gh auth login'"
    )
    assert emulator.requests == []


def test_untrusted_certificate_is_not_retried(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock, tmp_path: Path
) -> None:
    other = tmp_path / "other.pem"
    other.write_text("")  # trusts nothing
    gh = make_gh(emulator, {**gh_env, "SSL_CERT_FILE": str(other)}, paths, clock)
    with pytest.raises(GitHubError, match="cannot verify the TLS certificate") as info:
        gh.rest("GET", "user")
    assert not isinstance(info.value, Transient)
    assert clock.sleeps == []


def test_connection_refused_is_retried_then_transient(
    gh_env: dict[str, str], paths: Paths, clock: FakeClock, emulator: Emulator
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gh = make_gh(emulator, gh_env, paths, clock, host=f"127.0.0.1:{port}")
    with pytest.raises(ConnectionFailed, match=f"cannot reach 127.0.0.1:{port}"):
        gh.rest("POST", COMMENTS, body={"body": "x"})  # never reached: safe to retry
    # base 0.3 s: 0.02, 0.04, 0.08 s, each jittered down to at most half
    assert len(clock.sleeps) == 3
    for n, delay in enumerate(clock.sleeps):
        assert 0.3 / 15 * 2**n * 0.5 <= delay <= 0.3 / 15 * 2**n


def test_server_errors_on_reads_are_retried(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    emulator.server_error(2, status=502)
    assert make_gh(emulator, gh_env, paths, clock).rest("GET", "user")["login"] == "owner"
    assert [r.status for r in emulator.requests] == [502, 502, 200]
    assert len(clock.sleeps) == 2


def test_server_errors_give_up_after_three_retries(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    emulator.server_error(None, status=500, until=datetime.now(UTC).timestamp() + 60)
    with pytest.raises(Transient, match=r"HTTP 500: Server Error\); try again later"):
        make_gh(emulator, gh_env, paths, clock).rest("GET", "user")
    assert emulator.count("GET", "/user") == 4


def test_server_error_on_a_post_is_not_retried(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    emulator.add_issue("t")
    emulator.server_error(1, status=502, method="POST")
    with pytest.raises(Transient):
        make_gh(emulator, gh_env, paths, clock).rest("POST", COMMENTS, body={"body": "once"})
    assert emulator.count("POST") == 1
    assert clock.sleeps == []


# ---------------------------------------------------------------------- rate limits


def _backoff_file(paths: Paths, emulator: Emulator) -> dict[str, object]:
    return dict(json.loads(paths.backoff_file(emulator.host).read_text()))


def test_primary_limit_wait_mode_sleeps_until_reset_then_succeeds(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    reset = emulator.rate_limit(1, reset_in=20)
    gh = make_gh(emulator, gh_env, paths, clock, mode="wait", max_seconds=60)
    assert gh.rest("GET", "user")["login"] == "owner"
    assert [r.status for r in emulator.requests] == [403, 200]
    assert len(clock.sleeps) == 1
    assert clock.now().timestamp() == pytest.approx(reset, abs=0.01)
    saved = _backoff_file(paths, emulator)
    assert (saved["schema"], saved["reason"], saved["host"]) == (1, "primary", emulator.host)
    assert datetime.fromisoformat(str(saved["until"])).timestamp() == reset


def test_primary_limit_wait_mode_beyond_max_seconds_defers(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    emulator.rate_limit(1, reset_in=3600)
    gh = make_gh(emulator, gh_env, paths, clock, mode="wait", max_seconds=3)
    with pytest.raises(RateLimited) as info:
        gh.rest("GET", "user")
    assert info.value.exit_code == EXIT_DEFERRED == 75
    assert "more than backoff.max_seconds=3s away): nothing was changed" in str(info.value)
    assert info.value.reset_at is not None
    assert clock.sleeps == []
    assert len(emulator.requests) == 1


def test_skip_mode_raises_at_once_and_then_sends_nothing(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    emulator.add_issue("t")
    reset = emulator.rate_limit(1, reset_in=120)
    gh = make_gh(emulator, gh_env, paths, clock, mode="skip")
    with pytest.raises(RateLimited) as info:
        gh.rest("GET", f"repos/{DEFAULT_REPO}/issues")
    assert info.value.reset_at is not None and info.value.reset_at.timestamp() == reset
    until = datetime.fromtimestamp(reset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert str(info.value) == (
        f"GitHub rate limit for {emulator.host} until {until} "
        "(skip mode): nothing was changed; run again later"
    )
    # The limit is over on the server, but the backoff file still says to wait: a write
    # in skip mode is refused before any request.
    emulator.reset_log()
    with pytest.raises(RateLimited):
        gh.rest("POST", COMMENTS, body={"body": "must not be posted"})
    assert emulator.requests == []
    assert emulator.comments(1) == []
    assert clock.sleeps == []


def test_graphql_rate_limited(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    reset = emulator.rate_limit(1, reset_in=90)
    gh = make_gh(emulator, gh_env, paths, clock, mode="skip")
    with pytest.raises(RateLimited) as info:
        gh.graphql("query Probe { viewer { login } }")
    assert info.value.reset_at is not None and info.value.reset_at.timestamp() == reset
    assert emulator.requests[0].status == 200  # GitHub: 200 with errors[type=RATE_LIMITED]


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_limit_waits_retry_after(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock, status: int
) -> None:
    emulator.secondary_rate_limit(1, retry_after=7, status=status)
    gh = make_gh(emulator, gh_env, paths, clock, mode="wait")
    assert gh.rest("GET", "user")["login"] == "owner"
    assert [r.status for r in emulator.requests] == [status, 200]
    assert clock.sleeps == [pytest.approx(7, abs=0.01)]
    assert _backoff_file(paths, emulator)["reason"] == "secondary"


def test_secondary_limit_skip_mode(
    emulator: Emulator, gh_env: dict[str, str], paths: Paths, clock: FakeClock
) -> None:
    emulator.secondary_rate_limit(1, retry_after=60)
    gh = make_gh(emulator, gh_env, paths, clock, mode="skip")
    with pytest.raises(SecondaryRateLimited) as info:
        gh.rest("GET", "user")
    assert info.value.retry_after == 60
    assert info.value.exit_code == EXIT_DEFERRED


def test_a_second_process_respects_the_backoff_file(
    emulator: Emulator, gh_env: dict[str, str], gh_repo: object, tmp_path: Path
) -> None:
    """Process 1 hits the limit; process 2 (the real CLI, same ORCH_HOME, skip mode)
    exits 75 without sending a single request."""
    from orch.paths import Paths as P

    home = Path(gh_env["ORCH_HOME"])
    shared = P(config_dir=home, state_dir=home / "state")
    emulator.add_issue("t", labels=["status:new"])
    emulator.rate_limit(1, reset_in=300)
    first = Gh(emulator.host, BackoffConfig("skip", 0.3, 3), shared, FakeClock(), gh_env)
    with pytest.raises(RateLimited):
        first.rest("GET", "user")
    emulator.reset_log()

    repo_dir = gh_repo.work  # type: ignore[attr-defined]
    config = (repo_dir / ".orch.yml").read_text().replace("mode: wait", "mode: skip")
    (repo_dir / ".orch.yml").write_text(config)
    result = run_orch("task", "add", "Another", cwd=repo_dir, env=gh_env)
    assert result.code == 75, result
    assert "GitHub rate limit for" in result.err and "nothing was changed" in result.err
    assert emulator.requests == []
    assert [i["title"] for i in emulator.issues()] == ["t"]


def test_concurrent_processes_share_the_file(
    emulator: Emulator, gh_env: dict[str, str], tmp_path: Path
) -> None:
    """A plain Python process using orch.io.gh reads the file another process wrote."""
    state = tmp_path / "shared-state"
    emulator.rate_limit(1, reset_in=300)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from orch.clock import SystemClock\n"
        "from orch.config.model import BackoffConfig\n"
        "from orch.errors import RateLimited\n"
        "from orch.io.gh import Gh\n"
        "from orch.paths import Paths\n"
        "gh = Gh(sys.argv[1], BackoffConfig('skip', 0.3, 3), "
        "Paths(Path(sys.argv[2]), Path(sys.argv[2])), SystemClock())\n"
        "try:\n"
        "    gh.rest('GET', 'user')\n"
        "except RateLimited as exc:\n"
        "    print('deferred:', exc.reset_at is not None)\n"
        "    sys.exit(exc.exit_code)\n"
        "print('ok')\n"
    )

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, emulator.host, str(state)],
            env=gh_env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).parent.parent,
            check=False,
        )

    first, second = run(), run()
    assert (first.returncode, first.stdout) == (75, "deferred: True\n"), first.stderr
    assert (second.returncode, second.stdout) == (75, "deferred: True\n"), second.stderr
    assert len(emulator.requests) == 1  # only the first process asked GitHub
