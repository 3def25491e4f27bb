"""The shared state from Python: one store for every context and for Erlang."""

import threading
import time
import unittest
import uuid

import erlang
from erlang import (StateFull, state_cas, state_decr, state_delete, state_get,
                    state_incr, state_keys, state_set, state_wait)
import epy_fixtures


async def _changed_of(key):
    return await erlang.state_changed(key)


class StateTest(unittest.TestCase):
    def setUp(self):
        self.prefix = "py-test-" + uuid.uuid4().hex + "-"

    def tearDown(self):
        for key in state_keys():
            if key.startswith(self.prefix):
                state_delete(key)

    def key(self, name):
        return self.prefix + name

    def test_set_get_delete_keys(self):
        k = self.key("a")
        self.assertIsNone(state_get(k))
        self.assertEqual(state_get(k, "default"), "default")
        state_set(k, {"key": "value"})
        self.assertEqual(state_get(k), {"key": "value"})
        self.assertIn(k, state_keys())
        self.assertTrue(state_delete(k))
        self.assertFalse(state_delete(k))
        self.assertNotIn(k, state_keys())

    def test_values_keep_their_python_types(self):
        values = [0, -7, 2 ** 100, 1.5, "text", b"\xff\x00", None, True, False,
                  [1, [2]], (1, "two"), {"nested": {1: [None]}}, erlang.Atom("an_atom"),
                  epy_fixtures.collector, epy_fixtures.ref]
        for i, v in enumerate(values):
            k = self.key("v%d" % i)
            state_set(k, v)
            self.assertEqual(state_get(k), v)
            self.assertIs(type(state_get(k)), type(v))

    def test_unconvertible_values_are_refused(self):
        with self.assertRaisesRegex(TypeError, "cannot convert object to an Erlang term"):
            state_set(self.key("bad"), object())
        self.assertIsNone(state_get(self.key("bad")))

    def test_keys_must_be_str(self):
        for bad in (1, b"bytes", None, ("t",)):
            with self.assertRaises(TypeError):
                state_set(bad, 1)
            with self.assertRaises(TypeError):
                state_get(bad)
        state_set(erlang.Atom(self.key("atom")), 1)  # a str too
        self.assertEqual(state_get(self.key("atom")), 1)

    def test_counters(self):
        k = self.key("n")
        self.assertEqual(state_incr(k), 1)
        self.assertEqual(state_incr(k, 10), 11)
        self.assertEqual(state_decr(k), 10)
        self.assertEqual(state_decr(k, 20), -10)
        state_set(self.key("text"), "x")
        with self.assertRaises(TypeError):
            state_incr(self.key("text"))
        self.assertEqual(state_get(self.key("text")), "x")
        with self.assertRaises(TypeError):
            state_incr(k, 1.5)
        state_set(k, 2 ** 63 - 1)
        with self.assertRaises(OverflowError):
            state_incr(k)

    def test_counters_from_threads_are_exact(self):
        k = self.key("threads")

        def bump():
            for _ in range(2000):
                state_incr(k)

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(state_get(k), 8000)

    def test_compare_and_set(self):
        k = self.key("cas")
        self.assertTrue(state_cas(k, None, 1))     # absent
        self.assertFalse(state_cas(k, None, 2))
        self.assertTrue(state_cas(k, 1, [1, 2]))
        self.assertFalse(state_cas(k, 1, 3))
        self.assertTrue(state_cas(k, [1, 2], "done"))
        self.assertEqual(state_get(k), "done")

    def test_wait_times_out(self):
        start = time.monotonic()
        with self.assertRaises(TimeoutError):
            state_wait(self.key("never"), 0.05)
        self.assertLess(time.monotonic() - start, 5)
        with self.assertRaises(ValueError):
            state_wait(self.key("never"), -1)

    def test_wait_sees_a_change_from_another_thread(self):
        k = self.key("wake")
        timer = threading.Timer(0.05, state_set, (k, "woken"))
        timer.start()
        self.assertEqual(state_wait(k, 10), "woken")
        timer.join()
        timer = threading.Timer(0.05, state_delete, (k,))
        timer.start()
        self.assertIsNone(state_wait(k, 10))
        timer.join()

    def test_a_plain_thread_can_wait_too(self):
        k = self.key("plain")
        result = []
        waiter = threading.Thread(target=lambda: result.append(state_wait(k, 10)))
        waiter.start()
        time.sleep(0.05)
        state_set(k, 42)
        waiter.join(10)
        self.assertEqual(result, [42])

    def test_state_changed_in_an_event_loop(self):
        import asyncio
        k = self.key("async")

        async def changes():
            waiting = erlang.state_changed(k)
            # Other tasks run meanwhile; the change comes from one of them.
            asyncio.get_running_loop().call_later(0.02, state_set, k, "first")
            first = await waiting
            # ...or from another thread; a delete gives None.
            threading.Timer(0.02, state_delete, (k,)).start()
            deleted = await erlang.state_changed(k)
            counted = erlang.state_changed(k)
            state_incr(k, 5)
            return first, deleted, await counted

        self.assertEqual(erlang.run(changes()), ("first", None, 5))

    def test_state_changed_with_a_timeout_stops_watching(self):
        import asyncio
        k = self.key("async-timeout")

        async def times_out():
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(erlang.state_changed(k), 0.02)
            state_set(k, 1)  # nobody listens any more: nothing breaks
            await asyncio.sleep(0.01)
            return "ok"

        self.assertEqual(erlang.run(times_out()), "ok")

    def test_state_changed_needs_a_loop(self):
        with self.assertRaisesRegex(RuntimeError, "state_wait"):
            erlang.state_changed(self.key("sync"))
        with self.assertRaises(TypeError):
            erlang.run(_changed_of(42))

    def test_state_full_is_a_memory_error(self):
        self.assertTrue(issubclass(StateFull, MemoryError))


if __name__ == "__main__":
    unittest.main()
