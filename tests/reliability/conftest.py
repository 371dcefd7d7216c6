"""Fixtures of the reliability suite: log capture exactly as production formats and redacts it."""

from __future__ import annotations

import io
import logging

import pytest


@pytest.fixture(scope="session")
def production_log_handler_template() -> logging.Handler:
    """The handler settings.LOGGING installs on the root logger ("console"), as configured at start.

    Its formatter and filters (config.logging.RedactPersonalData) are what production output goes through.
    """
    handlers = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert handlers, "settings.LOGGING's console handler is not on the root logger"
    template = handlers[0]
    assert any(type(f).__name__ == "RedactPersonalData" for f in template.filters), template.filters
    return template


@pytest.fixture
def production_logs(production_log_handler_template):
    """Every log record of the test, formatted and filtered like the console handler; call it for the text.

    The handler sits on the root logger, and on every logger that does not propagate, at level 0: what the
    loggers' own levels let through is what production would print.
    """
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(production_log_handler_template.formatter)
    for log_filter in production_log_handler_template.filters:
        handler.addFilter(log_filter)
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    for logger in loggers:
        logger.addHandler(handler)
    yield buffer.getvalue
    for logger in loggers:
        logger.removeHandler(handler)
