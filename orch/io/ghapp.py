"""GitHub App authentication: orch acting as an App installation (SPEC §9, README).

With `github: {app_id, private_key_path, installation_id?}` orch signs an RS256 JWT
with the App's private key, finds the App's installation on the project's repository
(`GET /repos/{o}/{r}/installation`, unless `installation_id` is given), and mints an
installation token (`POST /app/installations/{id}/access_tokens`). The token is cached
in `<state>/auth/` (mode 600) and reused until 5 minutes before it expires.

Where the token goes: gh's environment for each gh subprocess (`gh_env()`: GH_TOKEN and
GH_ENTERPRISE_TOKEN, so it wins over the user's variables and gh's stored login), and
`git push`'s environment as a URL-scoped `http.<url>.extraheader` through
`GIT_CONFIG_COUNT/KEY/VALUE` (`git_env()`): never in orch's own environment (so never in
an agent's), never in argv, never in a repository's config, never in a log line.

Why these three calls are a stdlib HTTPS request and not `gh api`: GitHub accepts a JWT
only as `Authorization: Bearer`, and gh sends its token as `Authorization: token`; a
`-H Authorization:` argument would put the JWT in argv, where `ps` shows it. The calls
use the same host as gh (`https://api.github.com`, or `https://HOST/api/v3` for an
Enterprise host) and the system trust store (`SSL_CERT_FILE` honoured).

Token order (first found wins): the App, then `GH_TOKEN`, `GITHUB_TOKEN`
(`GH_ENTERPRISE_TOKEN` for an Enterprise host), then gh's stored login.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from orch.clock import Clock, parse_iso, utc_iso
from orch.config.model import AppConfig
from orch.errors import AuthError, ConfigError, GitHubError, Transient
from orch.io.locks import file_lock
from orch.io.sidecar import read_json, write_json_atomic
from orch.paths import Paths

GITHUB_COM = "github.com"
REFRESH_MARGIN = timedelta(minutes=5)  # a cached token is renewed this long before expiry
JWT_BACKDATE = timedelta(seconds=60)  # clock drift allowance GitHub recommends
JWT_LIFETIME = timedelta(minutes=9)  # GitHub refuses more than 10 minutes
HTTP_TIMEOUT_SECONDS = 30.0
CACHE_SCHEMA = 1
API_VERSION = "2022-11-28"


@dataclass(frozen=True)
class AppToken:
    """One minted installation token and what it belongs to."""

    token: str
    expires_at: datetime
    installation_id: int
    bot_login: str  # `<app-slug>[bot]`, the login the App's comments carry


def api_base(host: str) -> str:
    """The REST base URL for gh's host: api.github.com, or an Enterprise `/api/v3`."""
    host = host or GITHUB_COM
    if host == GITHUB_COM:
        return "https://api.github.com"
    return f"https://{host}/api/v3"


def sign_jwt(app: AppConfig, now: datetime) -> str:
    """The App's RS256 JWT: iss = app id, backdated 60 s, valid 9 minutes."""
    key = read_private_key(app)
    claims = {
        "iat": int((now - JWT_BACKDATE).timestamp()),
        "exp": int((now + JWT_LIFETIME).timestamp()),
        "iss": app.app_id,  # GitHub takes the App id or its client id, as a string
    }
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigError(
            f"github.private_key_path {app.private_key_path} is not an RSA private key in "
            f"PEM form ({type(exc).__name__}); download a new key from the App's settings"
        ) from None


def read_private_key(app: AppConfig) -> str:
    try:
        return app.private_key_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"github.private_key_path: cannot read {app.private_key_path} "
            f"({exc.strerror}); point it at the App's .pem private key"
        ) from None


class AppAuth:
    """Installation tokens of one App for one repository on one host (cached)."""

    def __init__(self, app: AppConfig, host: str, repo: str, paths: Paths, clock: Clock) -> None:
        self.app = app
        self.host = host or GITHUB_COM
        self.repo = repo
        self.paths = paths
        self.clock = clock

    @property
    def cache_file(self) -> Path:
        return cache_file(self.paths, self.host, self.app.app_id, self.repo)

    def login(self) -> str:
        """The App's bot login (`<slug>[bot]`), as recorded when the token was minted."""
        return self.token().bot_login

    # ------------------------------------------------------------------ the token

    def token(self) -> AppToken:
        """A token valid for at least 5 more minutes: the cached one, or a new one."""
        with file_lock(self.cache_file.with_suffix(".lock")):
            cached = self.cached()
            if cached is not None:
                return cached
            minted = self.mint()
            self._save(minted)
            return minted

    def cached(self) -> AppToken | None:
        """The cached token when it is this App's and still good for 5 minutes."""
        data = read_json(self.cache_file)
        if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
            return None
        if data.get("app_id") != self.app.app_id:
            return None
        wanted = self.app.installation_id
        try:
            record = AppToken(
                token=str(data["token"]),
                expires_at=parse_iso(str(data["expires_at"])),
                installation_id=int(data["installation_id"]),
                bot_login=str(data.get("bot_login") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None
        if wanted is not None and record.installation_id != wanted:
            return None
        if record.expires_at - REFRESH_MARGIN <= self.clock.now():
            return None
        return record

    def mint(self) -> AppToken:
        """Three Bearer-JWT calls: the App (its slug), its installation, a new token."""
        bearer = sign_jwt(self.app, self.clock.now())
        app = self._call("GET", "/app", bearer)
        installation = self.app.installation_id or self.installation_id(bearer)
        answer = self._call("POST", f"/app/installations/{installation}/access_tokens", bearer)
        try:
            return AppToken(
                token=str(answer["token"]),
                expires_at=parse_iso(str(answer["expires_at"])),
                installation_id=int(installation),
                bot_login=f"{app['slug']}[bot]",
            )
        except (KeyError, TypeError, ValueError):
            raise GitHubError(
                f"{api_base(self.host)}: unexpected answer minting an App token"
            ) from None

    def verify(self) -> tuple[str, int]:
        """For `orch doctor`: the key is readable, GitHub accepts the JWT, the App is
        installed on the repository. (bot login, installation id); mints nothing."""
        bearer = sign_jwt(self.app, self.clock.now())
        app = self._call("GET", "/app", bearer)
        installation = self.app.installation_id or self.installation_id(bearer)
        slug = app.get("slug") if isinstance(app, dict) else None
        return f"{slug or '?'}[bot]", installation

    def installation_id(self, bearer: str) -> int:
        found = self._call("GET", f"/repos/{self.repo}/installation", bearer)
        try:
            return int(found["id"])
        except (KeyError, TypeError, ValueError):
            raise GitHubError(f"{api_base(self.host)}: unexpected installation answer") from None

    def _save(self, record: AppToken) -> None:
        folder = self.cache_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        write_json_atomic(  # mkstemp: mode 600
            self.cache_file,
            {
                "schema": CACHE_SCHEMA,
                "app_id": self.app.app_id,
                "installation_id": record.installation_id,
                "bot_login": record.bot_login,
                "token": record.token,
                "expires_at": utc_iso(record.expires_at),
            },
        )

    # ------------------------------------------------------------------ HTTP

    def _call(self, method: str, path: str, bearer: str) -> Any:
        request = urllib.request.Request(
            api_base(self.host) + path,
            method=method,
            data=b"" if method == "POST" else None,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {bearer}",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "orch",
            },
        )
        context = ssl.create_default_context()
        try:
            with urllib.request.urlopen(
                request, timeout=HTTP_TIMEOUT_SECONDS, context=context
            ) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise self._http_error(method, path, exc.code, _message(exc)) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Transient(
                f"GitHub App {self.app.app_id}: {method} {api_base(self.host)}{path} failed "
                f"({reason}); try again later"
            ) from None

    def _http_error(self, method: str, path: str, status: int, message: str) -> GitHubError:
        where = f"GitHub App {self.app.app_id} on {self.host}"
        if status == 401:
            return AuthError(
                f"{where}: GitHub refused the App's JWT ({message}); check github.app_id "
                "and github.private_key_path (the key must belong to that App)"
            )
        if status == 404 and path.endswith("/installation"):
            return AuthError(
                f"{where} is not installed on {self.repo}; install the App on the repository "
                "or set github.installation_id"
            )
        if status in (403, 404):
            return AuthError(f"{where}: {method} {path} -> HTTP {status} ({message})")
        if status >= 500:
            return Transient(f"{where}: {method} {path} -> HTTP {status}; try again later")
        return GitHubError(f"{where}: {method} {path} -> HTTP {status} ({message})")

    # ------------------------------------------------------------------ handing it out

    def gh_env(self) -> dict[str, str]:
        """The variables that make one gh subprocess act as the App (and nothing else)."""
        token = self.token().token
        return {"GH_TOKEN": token, "GH_ENTERPRISE_TOKEN": token}

    def rejected(self) -> str:
        """gh got 401 with the token (revoked, App uninstalled): drop the cache so the
        next command mints a new one; say what to check."""
        with contextlib.suppress(OSError):
            self.cache_file.unlink()
        return (
            f"GitHub rejected the installation token of App {self.app.app_id} on {self.host}; "
            f"the next command mints a new one (check that the App is still installed on "
            f"{self.repo}: `orch doctor`)"
        )

    def git_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`git push` environment: a basic-auth header scoped to https://HOST/, added
        after any GIT_CONFIG_* entries already in `base` (default: os.environ)."""
        return extraheader_env(self.web_host(), self.token().token, base)

    def web_host(self) -> str:
        return GITHUB_COM if self.host == GITHUB_COM else self.host


def extraheader_env(host: str, token: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """GIT_CONFIG_* entries setting `http.https://HOST/.extraheader` for one git process."""
    env = base if base is not None else dict(os.environ)
    try:
        index = int(env.get("GIT_CONFIG_COUNT", "0") or "0")
    except ValueError:
        index = 0
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": str(index + 1),
        f"GIT_CONFIG_KEY_{index}": f"http.https://{host}/.extraheader",
        f"GIT_CONFIG_VALUE_{index}": f"AUTHORIZATION: basic {basic}",
    }


def for_project(
    app: AppConfig | None, host: str, repo: str | None, paths: Paths, clock: Clock
) -> AppAuth | None:
    """The App authentication of a project, or None when it uses no App."""
    if app is None or not repo:
        return None
    return AppAuth(app, host, repo, paths, clock)


def trusted_logins(
    app: AppConfig | None, host: str, repo: str | None, paths: Paths
) -> tuple[str, ...]:
    """Logins that are orch besides the user's own: the App's bot (`<slug>[bot]`), as
    recorded when its token was minted (no request). For marker trust."""
    if app is None or not repo:
        return ()
    data = read_json(cache_file(paths, host or GITHUB_COM, app.app_id, repo))
    login = data.get("bot_login") if isinstance(data, dict) else None
    return (login,) if isinstance(login, str) and login else ()


def cache_file(paths: Paths, host: str, app_id: str, repo: str) -> Path:
    """`<state>/auth/<host>/app-<id>-<owner>-<repo>.json` (folder 700, file 600)."""
    owner, name = repo.split("/", 1)
    safe_host = host.replace(":", "_").replace("/", "_")
    return paths.state_dir / "auth" / safe_host / f"app-{app_id}-{owner}-{name}.json"


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return exc.reason if isinstance(exc.reason, str) else ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""
