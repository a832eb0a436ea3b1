"""GitHub App authentication against the emulator with the real gh, git and fake agents:
the JWT is verified, every API request after setup carries the installation token, the
token is cached (mode 600) and reused, and it reaches no log and no agent."""

from __future__ import annotations

import fnmatch
import json
import os
import stat
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from orch.clock import parse_iso, utc_iso
from orch.io import ghapp
from orch.status import Status
from tests.emulator.server import App, Emulator
from tests.helpers import Repo, git
from tests.run_helpers import RunProject, claude_envelope, make_run_project, result_obj

APP_ID = 77
APP_ROUTES = ("/app", "/app/*", "/repos/*/*/installation")


def _keypair(folder: Path) -> tuple[Path, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = folder / "app.pem"
    path.write_bytes(pem)
    path.chmod(0o600)
    return path, public.decode()


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, str]:
    return _keypair(tmp_path)


@pytest.fixture
def app(emulator: Emulator, keys: tuple[Path, str]) -> App:
    return emulator.add_app(APP_ID, "orch-test", keys[1])


@pytest.fixture
def project(
    gh_repo: Repo, gh_env: dict[str, str], tmp_path: Path, keys: tuple[Path, str], app: App
) -> RunProject:
    run = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    run.configure(github={"app_id": APP_ID, "private_key_path": str(keys[0])})
    return run


def _minted(emulator: Emulator) -> list[str]:
    return [t for app in emulator.apps.values() for t in app.tokens]


def _api_requests(emulator: Emulator) -> list[str]:
    """Log lines of the non-App requests, with the token each used."""
    return [
        f"{r.method} {r.path} token={r.token[:8]}… login={r.login}"
        for r in emulator.matching()
        if not any(fnmatch.fnmatchcase(r.path, p) for p in APP_ROUTES)
    ]


def _cache_file(project: RunProject, emulator: Emulator) -> Path:
    host = emulator.host.replace(":", "_")
    return project.state / "auth" / host / f"app-{APP_ID}-acme-widgets.json"


def test_a_run_uses_the_installation_token_everywhere_and_hands_it_to_nobody(
    project: RunProject, emulator: Emulator
) -> None:
    number = int(
        emulator.add_issue("Say hello", "Add hello.txt", [Status.NEW.label, "agent:claude"])[
            "number"
        ]
    )
    project.scenario(
        {
            "claude": {
                "record": "calls/claude-{n}.json",
                "steps": [
                    {"write": "hello.txt", "text": "hello\n"},
                    {"stdout": claude_envelope(result_obj())},
                ],
            }
        }
    )
    emulator.reset_log()

    done = project.orch("task", "run", str(number))

    assert done.code == 0, done
    assert emulator.count("GET", "/app") == 1, emulator.log_lines()
    assert emulator.count("GET", "/repos/acme/widgets/installation") == 1
    assert emulator.count("POST", "/app/installations/4242/access_tokens", status=201) == 1
    (token,) = _minted(emulator)
    # Every API request after setup carried the installation token (as the App's bot).
    others = [
        r
        for r in emulator.matching()
        if not any(fnmatch.fnmatchcase(r.path, p) for p in APP_ROUTES)
    ]
    assert others and all(r.token == token for r in others), _api_requests(emulator)
    assert {r.login for r in others} == {"orch-test[bot]"}
    (pr,) = emulator.pulls()
    assert pr["user"]["login"] == "orch-test[bot]"
    assert (
        f"orch/{number}-say-hello"
        in git("branch", "--format=%(refname:short)", cwd=project.repo.origin).split()
    )
    # Cached with mode 600 in a 700 folder.
    cache = _cache_file(project, emulator)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    assert json.loads(cache.read_text())["bot_login"] == "orch-test[bot]"
    # The agent saw no token of any kind and no git config carrying one.
    (call,) = project.calls()
    assert token not in json.dumps(call["env"])
    assert not [
        k
        for k in call["env"]
        if k.startswith(("GIT_CONFIG_COUNT", "GIT_CONFIG_KEY")) or k.endswith("_TOKEN")
    ]
    # No file orch wrote holds the token, except its cache.
    leaks = [
        p
        for p in project.state.rglob("*")
        if p.is_file() and p != cache and token.encode() in p.read_bytes()
    ]
    assert leaks == []
    assert token not in done.out + done.err


def test_a_second_command_within_the_hour_mints_no_token(
    project: RunProject, emulator: Emulator
) -> None:
    emulator.reset_log()
    first = project.orch("task", "add", "First")
    second = project.orch("task", "list")

    assert first.code == 0 and second.code == 0, (first, second)
    assert emulator.count("POST", "/app/installations/*/access_tokens") == 1
    assert emulator.count("GET", "/app") == 1
    (token,) = _minted(emulator)
    assert all(r.token == token for r in emulator.matching("GET", "/repos/acme/widgets/issues*"))


def test_a_token_within_five_minutes_of_expiry_is_renewed(
    project: RunProject, emulator: Emulator
) -> None:
    assert project.orch("task", "list").code == 0
    cache = _cache_file(project, emulator)
    data = json.loads(cache.read_text())
    # Four minutes left: inside the 5-minute margin, so the next command mints anew.
    soon = parse_iso(data["expires_at"]) - timedelta(minutes=56)
    cache.write_text(json.dumps({**data, "expires_at": utc_iso(soon)}))
    emulator.reset_log()

    assert project.orch("task", "list").code == 0

    assert emulator.count("POST", "/app/installations/*/access_tokens") == 1
    assert len(_minted(emulator)) == 2
    newest = json.loads(cache.read_text())["token"]
    assert newest != data["token"]
    assert all(r.token == newest for r in emulator.matching("GET", "/repos/acme/widgets/issues*"))


def test_a_revoked_token_fails_once_then_a_new_one_is_minted(
    project: RunProject, emulator: Emulator
) -> None:
    assert project.orch("task", "list").code == 0
    emulator.expire_app_tokens()  # revoked before its time, as when an App is suspended

    refused = project.orch("task", "list")
    again = project.orch("task", "list")

    assert refused.code == 4, refused
    assert "rejected the installation token of App 77" in refused.err
    assert "gh auth login" not in refused.err
    assert again.code == 0, again
    assert len(_minted(emulator)) == 2


def test_a_key_of_another_app_is_refused_with_a_clear_line(
    project: RunProject, emulator: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "other").mkdir()
    other, _ = _keypair(tmp_path / "other")
    project.configure(github={"app_id": APP_ID, "private_key_path": str(other)})
    emulator.reset_log()

    done = project.orch("task", "list")

    assert done.code == 4, done
    assert "GitHub refused the App's JWT" in done.err and "github.private_key_path" in done.err
    assert "Traceback" not in done.err
    assert emulator.count("GET", "/repos/acme/widgets/issues*") == 0


def test_an_app_not_installed_on_the_repository_says_so(
    gh_repo: Repo,
    gh_env: dict[str, str],
    tmp_path: Path,
    emulator: Emulator,
    keys: tuple[Path, str],
) -> None:
    emulator.add_app(APP_ID, "orch-test", keys[1], repo=None)
    run = make_run_project(gh_repo, gh_env, tmp_path, "--repo", "acme/widgets")
    run.configure(github={"app_id": APP_ID, "private_key_path": str(keys[0])})

    done = run.orch("task", "list")

    assert done.code == 4, done
    assert "is not installed on acme/widgets" in done.err


def test_doctor_checks_the_app_setup(project: RunProject, emulator: Emulator) -> None:
    done = project.orch("doctor")
    line = next(x for x in done.out.splitlines() if "github app" in x)
    assert line.startswith("ok") and "orch-test[bot]" in line and "installation 4242" in line
    assert emulator.count("POST", "/app/installations/*/access_tokens") <= 1

    project.configure(github={"app_id": APP_ID, "private_key_path": "/nonexistent/key.pem"})
    done = project.orch("doctor")
    line = next(x for x in done.out.splitlines() if "github app" in x)
    assert line.startswith("fail") and "cannot read /nonexistent/key.pem" in line
    assert done.code != 0


def test_the_bot_login_is_exposed_for_marker_trust(project: RunProject, emulator: Emulator) -> None:
    from orch.config.model import load_config
    from orch.paths import Paths

    config = load_config(None, project.repo.work)
    paths = Paths(config_dir=project.home / "config", state_dir=project.state)
    assert ghapp.trusted_logins(config.app, config.gh.host, "acme/widgets", paths) == ()
    assert project.orch("task", "list").code == 0
    assert ghapp.trusted_logins(config.app, config.gh.host, "acme/widgets", paths) == (
        "orch-test[bot]",
    )


def test_git_push_gets_a_header_scoped_to_the_host_only(tmp_path: Path) -> None:
    env = {**os.environ, **ghapp.extraheader_env("ghe.example.com", "ghs_secret", {})}

    def urlmatch(url: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "config", "--get-urlmatch", "http.extraheader", url],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    inside = urlmatch("https://ghe.example.com/acme/widgets.git")
    assert inside.stdout.strip().startswith("AUTHORIZATION: basic ")
    assert "ghs_secret" not in inside.stdout  # base64 of x-access-token:TOKEN
    assert urlmatch("https://elsewhere.example.com/acme/widgets.git").stdout == ""
    # Existing GIT_CONFIG_* entries are kept: the new one goes after them.
    extended = ghapp.extraheader_env("h", "t", {"GIT_CONFIG_COUNT": "2"})
    assert extended["GIT_CONFIG_COUNT"] == "3" and "GIT_CONFIG_KEY_2" in extended


def test_gh_cannot_carry_the_jwt_so_orch_calls_the_app_endpoints_itself(
    emulator: Emulator,
    app: App,
    keys: tuple[Path, str],
    gh_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gh sends its token as `Authorization: token …`; GitHub (and the emulator) take a
    JWT only as `Bearer`. This is why orch.io.ghapp makes the three App calls over HTTPS."""
    from orch.clock import SystemClock
    from orch.config.model import AppConfig
    from orch.paths import Paths

    config = AppConfig(str(APP_ID), keys[0], None)
    bearer = ghapp.sign_jwt(config, SystemClock().now())
    env = {**gh_env, "GH_ENTERPRISE_TOKEN": bearer, "GH_HOST": emulator.host}
    via_gh = subprocess.run(
        ["gh", "api", "/app"], env=env, capture_output=True, text=True, check=False
    )
    assert via_gh.returncode != 0 and "JSON web token" in via_gh.stdout + via_gh.stderr

    monkeypatch.setenv("SSL_CERT_FILE", gh_env["SSL_CERT_FILE"])  # the emulator's throw-away CA
    auth = ghapp.AppAuth(
        config, emulator.host, "acme/widgets", Paths(tmp_path, tmp_path), SystemClock()
    )
    assert auth.verify() == ("orch-test[bot]", 4242)
    assert emulator.count("POST", "/app/installations/*/access_tokens") == 0
