"""What every context does when it starts (called by the NIF, once per context)."""

from erlang import _asyncio_hook, _logging


def start():
    _logging.install()
    _asyncio_hook.install()
