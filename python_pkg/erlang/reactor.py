"""Protocols over sockets and descriptors, served by the context's event loop.

    from erlang.reactor import Protocol, serve

    class EchoProtocol(Protocol):
        def data_received(self, data):
            self.write(data)
            return "continue"

    serve(sock, EchoProtocol)

serve() takes a socket (or a file descriptor number): a listening socket accepts
connections, each with a protocol instance of its own, until the socket is closed; a
connected socket is served until the connection ends. In synchronous code serve() returns
then, the context serving its mailbox meanwhile; inside a running event loop it returns a
coroutine to await. serve_in_background() starts the same as a task of the context's own
loop and returns at once (py_reactor_context:handoff/2 uses it for sockets Erlang accepted).

A protocol's data_received(data) returns "continue" (or None) to go on and "close" to
close the connection; write(data) and close() act on the connection; connection_made(),
eof_received() and connection_lost(exc) are optional.
"""

import socket as _socket

CONTINUE = "continue"
CLOSE = "close"

__all__ = ["Protocol", "serve", "serve_in_background", "CONTINUE", "CLOSE"]


class Protocol:
    """One connection. Subclass it and override data_received()."""

    transport = None

    def connection_made(self):
        pass

    def data_received(self, data):
        return CONTINUE

    def eof_received(self):
        """The peer finished sending. Return "continue" to keep writing, else it closes."""
        return CLOSE

    def connection_lost(self, exc):
        pass

    def write(self, data):
        self.transport.write(data)

    def close(self):
        self.transport.close()

    @property
    def peer(self):
        return self.transport.get_extra_info("peername") if self.transport else None


def _adapter_class():
    import asyncio

    class Adapter(asyncio.Protocol):
        """asyncio's protocol interface, driving a reactor Protocol."""

        def __init__(self, factory, closed, live=None):
            self._factory = factory
            self._closed = closed
            self._live = live  # a server's open connections, which end with it
            self._protocol = None

        def connection_made(self, transport):
            self._transport = transport
            if self._live is not None:
                self._live.add(transport)
            try:
                self._protocol = self._factory()
                self._protocol.transport = transport
                self._protocol.connection_made()
            except Exception as exc:
                self._fail(exc)

        def data_received(self, data):
            try:
                verdict = self._protocol.data_received(data)
            except Exception as exc:
                self._fail(exc)
                return
            if verdict in (None, CONTINUE):
                return
            if verdict != CLOSE:
                self._fail(ValueError(
                    "data_received() must return %r or %r, not %r" % (CONTINUE, CLOSE, verdict)))
                return
            self._transport.close()

        def eof_received(self):
            try:
                return self._protocol.eof_received() == CONTINUE
            except Exception as exc:
                self._fail(exc)
                return False

        def connection_lost(self, exc):
            if self._live is not None:
                self._live.discard(self._transport)
            try:
                if self._protocol is not None:
                    self._protocol.connection_lost(exc)
            finally:
                if not self._closed.done():
                    self._closed.set_result(None)

        def _fail(self, exc):
            loop = asyncio.get_running_loop()
            loop.call_exception_handler({
                "message": "a reactor protocol raised; its connection is closed",
                "exception": exc, "protocol": self._protocol})
            self._transport.abort()

    return Adapter


def _as_socket(sock):
    if isinstance(sock, int):
        sock = _socket.socket(fileno=sock)
    elif not isinstance(sock, _socket.socket):
        raise TypeError("serve() takes a socket or a file descriptor, not %s" % type(sock).__name__)
    sock.setblocking(False)
    return sock


def _listening(sock):
    try:
        return bool(sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ACCEPTCONN))
    except OSError:
        return False


async def serve_async(sock, protocol_factory):
    """serve() as a coroutine."""
    import asyncio
    loop = asyncio.get_running_loop()
    sock = _as_socket(sock)
    adapter = _adapter_class()
    if _listening(sock):
        live = set()

        def connection():
            return adapter(protocol_factory, loop.create_future(), live)

        server = await loop.create_server(connection, sock=sock)
        try:
            # Not server.serve_forever(): cancelled, it waits for every client to hang up.
            await loop.create_future()
        finally:
            # Interrupted, cancelled or the context stops: the connections end with it.
            server.close()
            for transport in list(live):
                transport.abort()
        return
    closed = loop.create_future()
    await loop.connect_accepted_socket(lambda: adapter(protocol_factory, closed), sock=sock)
    await closed


def serve(sock, protocol_factory):
    """Serves sock with protocol_factory (a Protocol subclass, or any callable making
    one). Returns when done; inside a running event loop, a coroutine to await."""
    import erlang
    coro = serve_async(sock, protocol_factory)
    if erlang._running_loop() is not None:
        return coro
    return erlang.run(coro)


def serve_in_background(sock, protocol_factory):
    """Starts serving sock as a task of the context's own loop and returns the task."""
    import erlang
    return erlang.spawn_task(serve_async(sock, protocol_factory))


def _adopt(fd, module, name):
    """For py_reactor_context:handoff/2: serve a descriptor Erlang handed over (this
    context owns it from now on, and closes it whatever happens) with module.name as the
    protocol factory."""
    sock = None
    try:
        import importlib
        factory = importlib.import_module(module)
        for part in name.split("."):
            factory = getattr(factory, part)
        sock = _as_socket(fd)
        serve_in_background(sock, factory)
    except BaseException:
        if sock is not None:
            sock.close()
        else:
            import os
            try:
                os.close(fd)
            except OSError:
                pass
        raise
