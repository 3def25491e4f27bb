"""The Erlang event loop: asyncio whose waiting is done by the context.

ErlangEventLoop is asyncio's own selector event loop (timers, futures, tasks, executors,
sockets, streams, servers, datagram endpoints, getaddrinfo) with one change: when it has
to wait, the context waits for it (_erlang._wait). The context sleeps on its mailbox and
the loop's epoll descriptor at once and serves other requests meanwhile, so a request, a
timer, a socket or call_soon_threadsafe wakes it at once, and an idle context uses no CPU.

Each context also keeps a loop of its own (context_loop()) that it runs whenever it serves
no request: tasks started by erlang.spawn_task() from synchronous code, or by
py_event_loop from Erlang, live there and outlive the call that started them.
"""

import asyncio
import selectors
import sys
import threading
from asyncio import coroutines, events

import _erlang

SIGNALS_REFUSED = "Signal handlers not supported: handle signals in Erlang (os:set_signal/2)"
SUBPROCESSES_REFUSED = (
    "Subprocesses are not supported inside the Erlang VM (fork() would corrupt it): run "
    "external programs through an Erlang port (open_port/2) instead")

# What _erlang_due() answers besides a delay in seconds.
_CLOSED = -2.0  # the loop is closed: forget it
_IDLE = -1.0    # only its descriptor can bring work
# Rounds of ready callbacks per step at most: requests never wait long for a busy loop.
_STEP_ROUNDS = 32
# asyncio.Task(..., eager_start=True) exists from 3.12 on.
_EAGER = sys.version_info >= (3, 12)


# _ContextSelector._stepping: a turn the context drives never waits, and looks at the
# descriptors only when the context saw them ready (a syscall saved on every other turn).
_WAIT, _POLL, _SKIP = 0, 1, 2


class _ContextSelector(selectors.EpollSelector):
    """An epoll selector whose blocking waits are done by the context."""

    def __init__(self):
        super().__init__()
        self._stepping = _WAIT

    def select(self, timeout=None):
        stepping = self._stepping
        if stepping:
            if stepping == _SKIP:
                return []
            self._stepping = _SKIP  # once per turn
            timeout = 0
        else:
            ready = _erlang._wait(self._selector.fileno(),
                                  -1.0 if timeout is None else max(timeout, 0.0))
            if ready is False:
                return []
            if ready:
                timeout = 0
            # None: not a context's thread; wait right here like any epoll selector.
        return super().select(timeout)


class ErlangEventLoop(asyncio.SelectorEventLoop):
    """An asyncio event loop integrated with the Erlang context that runs it."""

    def __init__(self):
        super().__init__(_ContextSelector())

    # --- what a loop inside the Erlang VM must not do ---------------------------------

    def add_signal_handler(self, sig, callback, *args):
        raise NotImplementedError(SIGNALS_REFUSED)

    def remove_signal_handler(self, sig):
        raise NotImplementedError(SIGNALS_REFUSED)

    def subprocess_exec(self, protocol_factory, program, *args, **kwargs):
        raise NotImplementedError(SUBPROCESSES_REFUSED)

    def subprocess_shell(self, protocol_factory, cmd, **kwargs):
        raise NotImplementedError(SUBPROCESSES_REFUSED)

    async def _make_subprocess_transport(self, *args, **kwargs):
        raise NotImplementedError(SUBPROCESSES_REFUSED)

    def close(self):
        super().close()
        # The async generator hooks a context leaves installed must not outlive the loop.
        if sys.get_asyncgen_hooks().firstiter == self._asyncgen_firstiter_hook:
            sys.set_asyncgen_hooks(firstiter=None, finalizer=None)

    # --- driven by the context, as its own loop ---------------------------------------

    def _erlang_due(self):
        """Seconds until the loop has work: 0 now, _IDLE for 'when its descriptor is
        readable', _CLOSED once closed."""
        if self._closed:
            return _CLOSED
        if self._thread_id is not None:  # running (run_until_complete): it waits itself
            return _IDLE
        if self._ready:
            return 0.0
        if self._scheduled:
            left = self._scheduled[0]._when - self.time()
            return left if left > 0.0 else 0.0
        return _IDLE

    def _timer_due(self):
        scheduled = self._scheduled
        return scheduled and scheduled[0]._when <= self.time() + self._clock_resolution

    def _erlang_enter(self):
        """Makes this thread run the loop (as run_forever would) for a turn the context
        drives; returns what _erlang_leave() restores."""
        outer = events._get_running_loop()  # a loop this turn runs nested in, if any
        self._thread_id = threading.get_ident()
        events._set_running_loop(self)
        # The async generator hooks (sys.set_asyncgen_hooks is costly: an audit event per
        # call) stay in place between turns; only a turn nested in another loop's run
        # puts that loop's back afterwards.
        hooks = sys.get_asyncgen_hooks()
        if hooks.firstiter == self._asyncgen_firstiter_hook:
            return outer, None
        sys.set_asyncgen_hooks(firstiter=self._asyncgen_firstiter_hook,
                               finalizer=self._asyncgen_finalizer_hook)
        return outer, hooks if outer is not None else None

    def _erlang_leave(self, saved):
        outer, hooks = saved
        self._stopping = False  # stop() means nothing to a loop that never stops
        events._set_running_loop(outer)
        if hooks is not None:
            sys.set_asyncgen_hooks(*hooks)
        self._thread_id = None

    def _erlang_step(self, poll_io=True):
        """Runs what is ready (due timers, callbacks, and I/O if poll_io) without waiting."""
        if self._closed or self._thread_id is not None:
            return
        saved = self._erlang_enter()
        selector = self._selector
        selector._stepping = _POLL if poll_io else _SKIP
        try:
            ready = self._ready
            for _ in range(_STEP_ROUNDS):
                if poll_io or self._debug or self._timer_due():
                    self._run_once()
                else:  # what _run_once comes down to when no I/O and no timer is due
                    for _ in range(len(ready)):
                        handle = ready.popleft()
                        if not handle._cancelled:
                            handle._run()
                    handle = None  # no cycle through a raised exception's frame
                if not ready:
                    break
                poll_io = False
        except BaseException as exc:  # KeyboardInterrupt or SystemExit out of a callback
            self.call_exception_handler({
                "message": "a callback of the context's event loop raised", "exception": exc})
        finally:
            selector._stepping = _WAIT
            self._erlang_leave(saved)

    def _erlang_eager_task(self, coro):
        """A task that starts running coro at once, up to its first suspension (what
        asyncio.eager_task_factory does, 3.12+): a coroutine that never waits is done
        before this returns, without a turn of the loop."""
        if not _EAGER or self._closed or self._thread_id is not None:
            return self.create_task(coro)
        saved = self._erlang_enter()
        try:
            return asyncio.Task(coro, loop=self, eager_start=True)
        finally:
            self._erlang_leave(saved)

    def _erlang_shutdown(self):
        """The context stops: cancel what runs, let it unwind, close."""
        if self._closed or self._thread_id is not None:
            return
        tasks = [t for t in asyncio.all_tasks(self) if not t.done()]
        for task in tasks:
            task.cancel()
        if self._asyncgens:
            self.create_task(self.shutdown_asyncgens())
        for _ in range(100):  # a task that ignores its cancel is abandoned
            if not self._ready and all(t.done() for t in tasks):
                break
            self._erlang_step()
        self.close()


class ErlangEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """asyncio's defaults inside the VM: new loops are ErlangEventLoops, and the current
    loop of a context's thread is that context's own loop."""

    def new_event_loop(self):
        return ErlangEventLoop()

    def get_event_loop(self):
        if getattr(self._local, "_loop", None) is None and _erlang._in_context():
            return context_loop()
        return super().get_event_loop()


def install_policy():
    """Makes ErlangEventLoopPolicy asyncio's policy, unless another was chosen."""
    if type(asyncio.get_event_loop_policy()) is asyncio.DefaultEventLoopPolicy:
        asyncio.set_event_loop_policy(ErlangEventLoopPolicy())


def context_loop():
    """The calling context's own loop, made on first use."""
    loop = _erlang._context_loop()
    if loop is None or loop.is_closed():
        if not _erlang._in_context():
            raise RuntimeError(
                "no event loop here: this thread is not a context's and runs no loop")
        loop = ErlangEventLoop()
        _erlang._drive(loop, loop._selector.fileno())
    return loop


def new_event_loop():
    return ErlangEventLoop()


def run(main, *, debug=None):
    """Runs the coroutine main on a new ErlangEventLoop and returns its result (the
    counterpart of asyncio.run)."""
    if events._get_running_loop() is not None:
        raise RuntimeError("erlang.run() cannot be called from a running event loop")
    with asyncio.Runner(debug=debug, loop_factory=ErlangEventLoop) as runner:
        return runner.run(main)


def spawn_task(aw, *, name=None):
    """Starts aw as a task of the running loop, or else of the context's own loop (it
    then runs after the current call returns, and while it waits)."""
    try:
        loop = events._get_running_loop() or context_loop()
    except BaseException:
        if coroutines.iscoroutine(aw):
            aw.close()  # never started: no "was never awaited" warning
        raise
    if coroutines.iscoroutine(aw):
        return loop.create_task(aw, name=name)
    task = asyncio.ensure_future(aw, loop=loop)
    if name is not None and isinstance(task, asyncio.Task):
        task.set_name(name)
    return task


def _report_failure(task):
    """Done callback of tasks nobody awaits (py_event_loop:spawn_task/3,4)."""
    if not task.cancelled() and task.exception() is not None:
        task.get_loop().call_exception_handler({
            "message": "a task started by py_event_loop:spawn_task failed",
            "exception": task.exception(), "task": task})


def _start_task(aw, done):
    """For the NIF: runs the awaitable a task request produced on the context's loop,
    started eagerly. done(task) answers the Erlang caller once the task ends (the NIF
    answers at once for a task already done); None: nobody waits, a failure is logged."""
    loop = context_loop()
    if coroutines.iscoroutine(aw):
        task = loop._erlang_eager_task(aw)
    else:
        task = asyncio.ensure_future(aw, loop=loop)
    if done is None:
        task.add_done_callback(_report_failure)
    elif not task.done():
        task.add_done_callback(done)
    return task

install_policy()
