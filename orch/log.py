"""The orch log: `<state>/logs/orch.log`, rotated, one line per action."""

from __future__ import annotations

import logging
import logging.handlers

from orch.paths import Paths

_configured = False


def setup(paths: Paths) -> logging.Logger:
    """Attach the rotating file handler once per process; never fails the command."""
    global _configured
    logger = logging.getLogger("orch")
    if _configured:
        return logger
    _configured = True
    logger.setLevel(logging.DEBUG)
    try:
        paths.logs_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _FileHandler(
            paths.log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(process)d %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z"
        )
    )
    logger.addHandler(handler)
    logger.propagate = False
    return logger


class _FileHandler(logging.handlers.RotatingFileHandler):
    """A log write that fails (disk full, file removed) is dropped: logging's default
    prints a traceback to stderr, and orch never shows a traceback for a full disk."""

    def handleError(self, record: logging.LogRecord) -> None:
        return


def get() -> logging.Logger:
    return logging.getLogger("orch")
