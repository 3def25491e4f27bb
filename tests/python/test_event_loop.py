"""asyncio in a context: ErlangEventLoop, erlang.run, spawn_task, sleep, schedule, and
the refusals (signals, subprocesses)."""

import asyncio
import signal
import socket
import threading
import time
import unittest

import erlang


def run(coro):
    return erlang.run(coro)


class LoopTest(unittest.TestCase):
    def test_seed_example(self):
        async def handler():
            await asyncio.sleep(0.1)  # standard asyncio, Erlang timers
            return "done"

        self.assertEqual(erlang.run(handler()), "done")

    def test_the_running_loop_is_an_erlang_loop(self):
        async def which():
            return asyncio.get_running_loop()

        loop = run(which())
        self.assertIsInstance(loop, erlang.ErlangEventLoop)
        self.assertTrue(loop.is_closed())  # erlang.run closes its loop, like asyncio.run

    def test_asyncio_defaults_to_the_erlang_loop(self):
        async def which():
            return type(asyncio.get_running_loop())

        self.assertIs(asyncio.run(which()), erlang.ErlangEventLoop)
        loop = asyncio.new_event_loop()
        try:
            self.assertIsInstance(loop, erlang.ErlangEventLoop)
        finally:
            loop.close()
        # The current loop of a context thread is its own loop, the same every time.
        self.assertIsInstance(asyncio.get_event_loop(), erlang.ErlangEventLoop)
        self.assertIs(asyncio.get_event_loop(), asyncio.get_event_loop())

    def test_new_event_loop_run_until_complete(self):
        loop = erlang.new_event_loop()
        try:
            self.assertIsInstance(loop, erlang.ErlangEventLoop)
            self.assertEqual(loop.run_until_complete(asyncio.sleep(0.01, "slept")), "slept")
            self.assertFalse(loop.is_running())
        finally:
            loop.close()

    def test_gather_runs_concurrently(self):
        async def three():
            start = time.monotonic()
            await asyncio.gather(asyncio.sleep(0.2), asyncio.sleep(0.2), asyncio.sleep(0.2))
            return time.monotonic() - start

        elapsed = run(three())
        self.assertGreaterEqual(elapsed, 0.19)
        self.assertLess(elapsed, 0.45)

    def test_wait_for_times_out(self):
        async def late():
            await asyncio.wait_for(asyncio.sleep(5), 0.05)

        with self.assertRaises(asyncio.TimeoutError):
            run(late())

    def test_exceptions_propagate(self):
        async def fails():
            await asyncio.sleep(0)
            raise ValueError("inside the loop")

        with self.assertRaisesRegex(ValueError, "inside the loop"):
            run(fails())

    def test_erlang_run_refuses_a_running_loop(self):
        async def nested():
            coro = asyncio.sleep(0)
            try:
                erlang.run(coro)
            finally:
                coro.close()

        with self.assertRaises(RuntimeError):
            run(nested())

    def test_timers_fire_in_order(self):
        async def timers():
            loop = asyncio.get_running_loop()
            fired = []
            done = loop.create_future()
            for delay in (0.03, 0.01, 0.02, 0.0):
                loop.call_later(delay, fired.append, delay)
            loop.call_later(0.05, done.set_result, None)
            await done
            return fired

        self.assertEqual(run(timers()), [0.0, 0.01, 0.02, 0.03])

    def test_ten_thousand_sleeping_tasks(self):
        async def many():
            tasks = [asyncio.create_task(asyncio.sleep(0.05, i)) for i in range(10000)]
            return await asyncio.gather(*tasks)

        self.assertEqual(run(many()), list(range(10000)))

    def test_call_soon_threadsafe_wakes_the_loop(self):
        async def woken():
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            threading.Timer(0.05, loop.call_soon_threadsafe, (future.set_result, "woken")).start()
            return await asyncio.wait_for(future, 5)

        self.assertEqual(run(woken()), "woken")

    def test_run_in_executor(self):
        async def offloaded():
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, sum, range(1000))

        self.assertEqual(run(offloaded()), sum(range(1000)))

    def test_getaddrinfo(self):
        async def resolve():
            return await asyncio.get_running_loop().getaddrinfo("localhost", 80)

        self.assertTrue(run(resolve()))

    def test_add_reader_and_writer(self):
        async def pipe_through():
            loop = asyncio.get_running_loop()
            a, b = socket.socketpair()
            a.setblocking(False)
            b.setblocking(False)
            got = loop.create_future()
            writable = loop.create_future()
            loop.add_reader(b, lambda: got.set_result(b.recv(100)))
            loop.add_writer(a, lambda: writable.done() or writable.set_result(True))
            await writable
            loop.remove_writer(a)
            a.send(b"ping")
            data = await asyncio.wait_for(got, 5)
            loop.remove_reader(b)
            a.close()
            b.close()
            return data

        self.assertEqual(run(pipe_through()), b"ping")

    def test_sock_methods(self):
        async def echo():
            loop = asyncio.get_running_loop()
            server = socket.socket()
            server.bind(("127.0.0.1", 0))
            server.listen()
            server.setblocking(False)
            client = socket.socket()
            client.setblocking(False)
            accepting = loop.create_task(loop.sock_accept(server))
            await loop.sock_connect(client, server.getsockname())
            conn, _ = await accepting
            await loop.sock_sendall(client, b"hello")
            data = await loop.sock_recv(conn, 100)
            for s in (conn, client, server):
                s.close()
            return data

        self.assertEqual(run(echo()), b"hello")

    def test_streams_server_and_client(self):
        async def echo_server():
            async def handle(reader, writer):
                line = await reader.readline()
                writer.write(line.upper())
                await writer.drain()
                writer.close()

            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"echo me\n")
            await writer.drain()
            reply = await reader.readline()
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()
            return reply

        self.assertEqual(run(echo_server()), b"ECHO ME\n")

    def test_datagram_endpoint(self):
        class Echo(asyncio.DatagramProtocol):
            def connection_made(self, transport):
                self.transport = transport

            def datagram_received(self, data, addr):
                self.transport.sendto(data[::-1], addr)

        class Client(asyncio.DatagramProtocol):
            def __init__(self, future):
                self.future = future

            def datagram_received(self, data, addr):
                self.future.set_result(data)

        async def roundtrip():
            loop = asyncio.get_running_loop()
            server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
            port = server.get_extra_info("sockname")[1]
            answer = loop.create_future()
            client, _ = await loop.create_datagram_endpoint(
                lambda: Client(answer), remote_addr=("127.0.0.1", port))
            client.sendto(b"abc")
            data = await asyncio.wait_for(answer, 5)
            client.close()
            server.close()
            return data

        self.assertEqual(run(roundtrip()), b"cba")


class RefusalTest(unittest.TestCase):
    MESSAGE = "Signal handlers not supported: handle signals in Erlang (os:set_signal/2)"

    def test_signal_handlers_seed_example(self):
        loop = asyncio.get_event_loop()
        with self.assertRaises(NotImplementedError) as caught:
            loop.add_signal_handler(signal.SIGTERM, lambda: None)
        self.assertEqual(str(caught.exception), self.MESSAGE)
        with self.assertRaises(NotImplementedError) as caught:
            loop.remove_signal_handler(signal.SIGTERM)
        self.assertEqual(str(caught.exception), self.MESSAGE)

    def test_subprocesses(self):
        async def spawn(make):
            return await make()

        for make in (lambda: asyncio.create_subprocess_exec("true"),
                     lambda: asyncio.create_subprocess_shell("true")):
            with self.assertRaisesRegex(NotImplementedError, "Erlang port"):
                run(spawn(make))
        loop = erlang.new_event_loop()
        try:
            with self.assertRaisesRegex(NotImplementedError, "open_port"):
                loop.subprocess_exec(asyncio.SubprocessProtocol, "true")
        finally:
            loop.close()

    def test_erlang_asyncio_is_gone(self):
        with self.assertRaises(ModuleNotFoundError):
            import erlang_asyncio  # noqa: F401


class SleepScheduleTest(unittest.TestCase):
    def test_sleep_in_synchronous_code(self):
        start = time.monotonic()
        self.assertIsNone(erlang.sleep(0.05))
        self.assertGreaterEqual(time.monotonic() - start, 0.049)
        self.assertIsNone(erlang.sleep(0))

    def test_sleep_arguments(self):
        with self.assertRaises(ValueError):
            erlang.sleep(-1)
        with self.assertRaises(TypeError):
            erlang.sleep("1")
        with self.assertRaises(ValueError):
            erlang.sleep(float("nan"))

    def test_sleep_and_schedule_in_a_loop_are_awaitable(self):
        async def both():
            start = time.monotonic()
            await erlang.sleep(0.02)
            await erlang.schedule()
            return time.monotonic() - start

        self.assertGreaterEqual(run(both()), 0.019)

    def test_schedule_in_synchronous_code(self):
        self.assertIsNone(erlang.schedule())

    def test_v18_aliases(self):
        async def aliases():
            task = erlang.create_task(asyncio.sleep(0, "task"))
            both = await erlang.gather(task, asyncio.sleep(0, "gathered"))
            try:
                await erlang.wait_for(asyncio.sleep(5), 0.01)
            except asyncio.TimeoutError:
                return both + ["timed out"]

        self.assertEqual(run(aliases()), ["task", "gathered", "timed out"])


class SpawnTaskTest(unittest.TestCase):
    def test_spawn_task_from_synchronous_code_runs_in_the_background(self):
        events = []

        async def background():
            await asyncio.sleep(0.01)
            events.append("background done")
            return 42

        task = erlang.spawn_task(background())
        self.assertIsInstance(task, asyncio.Task)
        self.assertIs(task.get_loop(), asyncio.get_event_loop())  # the context's own loop
        self.assertFalse(task.done())
        # A synchronous wait lets the context run its loop meanwhile.
        deadline = time.monotonic() + 5
        while not task.done() and time.monotonic() < deadline:
            erlang.sleep(0.01)
        self.assertEqual(events, ["background done"])
        self.assertEqual(task.result(), 42)

    def test_spawn_task_in_a_running_loop_is_create_task(self):
        async def outer():
            task = erlang.spawn_task(asyncio.sleep(0, "inner"))
            self.assertIs(task.get_loop(), asyncio.get_running_loop())
            return await task

        self.assertEqual(run(outer()), "inner")

    def test_spawn_task_needs_an_awaitable(self):
        with self.assertRaises(TypeError):
            erlang.spawn_task(42)

    def test_spawn_task_off_a_context_thread(self):
        errors = []

        def off_context():
            coro = asyncio.sleep(0)
            try:
                erlang.spawn_task(coro)
            except RuntimeError as e:
                errors.append(str(e))

        t = threading.Thread(target=off_context)
        t.start()
        t.join()
        self.assertEqual(len(errors), 1)
        self.assertIn("not a context", errors[0])


if __name__ == "__main__":
    unittest.main()
