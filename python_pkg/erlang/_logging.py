"""Python's logging, delivered to Erlang's logger.

Each context installs ErlangHandler on the root logger when it starts; records at or
above the level set by py:configure_logging/1 go to Erlang's logger with domain [python].
"""

import logging

import _erlang


class ErlangHandler(logging.Handler):
    """Sends each record, formatted (with its traceback, if any), to Erlang."""

    def __init__(self):
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record):
        try:
            _erlang.log(record.levelno, record.name, self.format(record),
                        record.pathname, record.lineno, record.funcName)
        except Exception:
            self.handleError(record)


def install():
    """Adds the handler to the root logger (once: executors share one root logger)."""
    root = logging.getLogger()
    if not any(isinstance(h, ErlangHandler) for h in root.handlers):
        root.addHandler(ErlangHandler())
    set_level(_erlang.log_level())


def set_level(levelno):
    logging.getLogger().setLevel(levelno)
