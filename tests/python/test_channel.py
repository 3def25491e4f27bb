"""erlang.channel from Python: receive, try_receive, async_receive, send, close, bounds,
many receivers."""

import asyncio
import threading
import time
import unittest

import erlang
from erlang.channel import Channel, ChannelClosed


class ChannelTest(unittest.TestCase):
    def test_send_and_receive_in_order(self):
        ch = Channel()
        for item in [1, "two", (3,), {"four": [4]}, None, b"\xff"]:
            ch.send(item)
        self.assertEqual([ch.receive() for _ in range(6)],
                         [1, "two", (3,), {"four": [4]}, None, b"\xff"])

    def test_try_receive_tells_empty_from_a_sent_none(self):
        ch = Channel()
        self.assertIsNone(ch.try_receive())
        marker = object()
        self.assertIs(ch.try_receive(default=marker), marker)
        ch.send(None)
        self.assertIsNone(ch.try_receive(default=marker))

    def test_receive_timeout(self):
        ch = Channel()
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            ch.receive(timeout=0.05)
        self.assertGreaterEqual(time.monotonic() - start, 0.049)
        with self.assertRaises(ValueError):
            ch.receive(timeout=-1)
        with self.assertRaises(TypeError):
            ch.receive(timeout="soon")
        self.assertEqual(ch.info()["receivers"], 0)

    def test_iteration_ends_when_closed_and_drained(self):
        ch = Channel()
        for i in range(5):
            ch.send(i)
        ch.close()
        self.assertTrue(ch.closed)
        self.assertEqual(list(ch), [0, 1, 2, 3, 4])
        with self.assertRaises(ChannelClosed):
            ch.receive()
        with self.assertRaises(ChannelClosed):
            ch.try_receive()
        with self.assertRaises(ChannelClosed):
            ch.send(5)

    def test_context_manager_closes(self):
        with Channel() as ch:
            ch.send(1)
        self.assertTrue(ch.closed)
        self.assertEqual(ch.receive(), 1)

    def test_wrapping_returns_the_same_channel(self):
        ch = Channel()
        self.assertIs(Channel(ch), ch)
        self.assertEqual(Channel(ch), ch)
        self.assertNotEqual(Channel(), ch)
        self.assertEqual(len({ch, Channel(ch)}), 1)
        with self.assertRaises(TypeError):
            Channel(42)
        with self.assertRaises(ValueError):
            Channel(max_size=-1)
        with self.assertRaises(TypeError):
            Channel(max_size="big")
        self.assertIn("Channel", repr(ch))

    def test_unconvertible_messages_are_refused(self):
        ch = Channel()
        with self.assertRaises(TypeError):
            ch.send(object())
        self.assertEqual(ch.info()["count"], 0)

    def test_info(self):
        ch = Channel(max_size=1000)
        ch.send(b"x" * 10)
        info = ch.info()
        self.assertEqual(info["count"], 1)
        self.assertGreater(info["size"], 10)
        self.assertEqual(info["max_size"], 1000)
        self.assertFalse(info["closed"])
        self.assertIsNone(Channel().info()["max_size"])

    def test_bounded_channel_waits_for_room(self):
        ch = Channel(max_size=100)
        self.assertTrue(ch.try_send(b"a" * 50))
        self.assertFalse(ch.try_send(b"b" * 50))
        with self.assertRaises(TimeoutError):
            ch.send(b"b" * 50, timeout=0.05)
        threading.Timer(0.05, ch.receive).start()
        ch.send(b"b" * 50, timeout=5)  # room comes from the other thread
        # Messages travel as Erlang terms: bytes are a binary, which arrives as str when
        # it is valid UTF-8 (as in every conversion).
        self.assertEqual(ch.receive(), "b" * 50)

    def test_close_wakes_a_receiving_thread(self):
        ch = Channel()
        outcome = []

        def receive():
            try:
                ch.receive()
            except ChannelClosed:
                outcome.append("closed")

        t = threading.Thread(target=receive)
        t.start()
        while ch.info()["receivers"] == 0:
            time.sleep(0.001)
        ch.close()
        t.join(5)
        self.assertEqual(outcome, ["closed"])

    def test_threads_receive_each_message_once(self):
        ch = Channel()
        got = [[] for _ in range(4)]

        def consume(i):
            for msg in ch:
                got[i].append(msg)

        threads = [threading.Thread(target=consume, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for i in range(10000):
            ch.send(i)
        ch.close()
        for t in threads:
            t.join(30)
        for g in got:
            self.assertEqual(g, sorted(g))  # each in send order
        self.assertEqual(sorted(sum(got, [])), list(range(10000)))

    def test_a_waiting_context_keeps_other_work_going(self):
        # While this request waits for a message, a thread sends it after sleeping:
        # the wait is in the context, not a spin on the GIL.
        ch = Channel()
        threading.Timer(0.05, ch.send, ("late",)).start()
        self.assertEqual(ch.receive(timeout=5), "late")


class AsyncChannelTest(unittest.TestCase):
    def test_async_receive_lets_other_tasks_run(self):
        ch = Channel()

        async def main():
            ticks = []

            async def ticker():
                for i in range(3):
                    ticks.append(i)
                    await asyncio.sleep(0.01)
                ch.send("after ticks")

            asyncio.get_running_loop().create_task(ticker())
            msg = await ch.async_receive()
            return msg, ticks

        self.assertEqual(erlang.run(main()), ("after ticks", [0, 1, 2]))

    def test_async_receive_from_another_thread(self):
        ch = Channel()
        threading.Timer(0.05, ch.send, ({"from": "thread"},)).start()
        self.assertEqual(erlang.run(ch.async_receive()), {"from": "thread"})

    def test_async_for_and_close(self):
        ch = Channel()

        async def main():
            async def produce():
                for i in range(100):
                    ch.send(i)
                    if i % 10 == 0:
                        await asyncio.sleep(0)
                ch.close()

            asyncio.get_running_loop().create_task(produce())
            return [m async for m in ch]

        self.assertEqual(erlang.run(main()), list(range(100)))

    def test_cancelled_async_receive_loses_nothing(self):
        ch = Channel()

        async def main():
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(ch.async_receive(), 0.02)
            self.assertEqual(ch.info()["receivers"], 0)
            ch.send("kept")
            return await ch.async_receive()

        self.assertEqual(erlang.run(main()), "kept")

    def test_async_receive_on_a_closed_channel(self):
        ch = Channel()
        ch.close()
        with self.assertRaises(ChannelClosed):
            erlang.run(ch.async_receive())


if __name__ == "__main__":
    unittest.main()
