"""Channels between Erlang processes and Python contexts.

A channel passed from Erlang (py_channel:new/0,1) arrives as a Channel; Channel() makes a
new one, which Erlang can use with py_channel once it is returned or sent there. Each
message goes to exactly one receiver, in send order per sender; a message is copied out
of its sender at send time and converted on the receiving thread.

    for msg in channel:                   # ends when the channel is closed and drained
        handle(msg)
    msg = channel.receive()               # waits; this context keeps serving meanwhile
    msg = channel.receive(timeout=0.5)    # TimeoutError after 0.5 s
    msg = channel.try_receive()           # None when empty (try_receive(default=X))
    msg = await channel.async_receive()   # inside an event loop; other tasks run
    channel.send(term)                    # to Erlang receivers (py_channel:receive/2)
"""

import _erlang
from _erlang import ChannelClosed

__all__ = ["Channel", "ChannelClosed"]


class Channel(_erlang.Channel):
    """A channel. Channel() makes a new one (max_size=N bytes bounds it: send() then
    waits for room); Channel(ch) returns ch itself."""

    __slots__ = ()

    def __new__(cls, channel=None, *, max_size=None):
        if isinstance(channel, _erlang.Channel):
            return channel
        if channel is not None:
            raise TypeError("Channel() takes an existing channel or nothing, not %s"
                            % type(channel).__name__)
        return super().__new__(cls, max_size=max_size)

    async def async_receive(self):
        """The next message, awaited in the running event loop (other tasks run while it
        waits); ChannelClosed once the channel is closed and drained."""
        value = self.try_receive(_EMPTY)
        if value is not _EMPTY:
            return value
        import asyncio
        loop = asyncio.get_running_loop()
        receiver = self._async_receiver()
        try:
            fd = receiver.fileno()
            while True:
                got = receiver.poll()
                if got is not None:
                    return got[0]
                woken = loop.create_future()
                loop.add_reader(fd, _wake, woken)
                try:
                    await woken
                finally:
                    loop.remove_reader(fd)
        finally:
            receiver.close()

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.async_receive()
        except ChannelClosed:
            raise StopAsyncIteration from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _Empty:
    __slots__ = ()


_EMPTY = _Empty()


def _wake(future):
    if not future.done():
        future.set_result(None)


_erlang._set_channel_class(Channel)
