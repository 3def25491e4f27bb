"""erlang.reactor: protocols served by the context's event loop."""

import socket
import threading
import unittest

import erlang
from erlang.reactor import Protocol, serve, serve_in_background


class Echo(Protocol):
    def data_received(self, data):
        self.write(data)
        return "continue"


class OneShot(Protocol):
    def data_received(self, data):
        self.write(data.upper())
        return "close"


def client(port, payloads, results):
    with socket.create_connection(("127.0.0.1", port)) as c:
        for p in payloads:
            c.sendall(p)
            results.append(c.recv(100))


class ReactorTest(unittest.TestCase):
    def test_a_connected_socket_is_served_until_it_closes(self):
        ours, theirs = socket.socketpair()
        got = []

        def peer():
            theirs.sendall(b"ping")
            got.append(theirs.recv(100))
            theirs.close()

        t = threading.Thread(target=peer)
        t.start()
        serve(ours, Echo)  # returns when the peer hangs up
        t.join(5)
        self.assertEqual(got, [b"ping"])

    def test_close_verdict_ends_the_connection(self):
        ours, theirs = socket.socketpair()
        theirs.sendall(b"once")
        serve(ours.detach(), OneShot)  # a descriptor number works too
        self.assertEqual(theirs.recv(100), b"ONCE")
        self.assertEqual(theirs.recv(100), b"")  # closed by the protocol
        theirs.close()

    def test_a_listening_socket_serves_many_clients(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        results = []

        async def main():
            task = serve_in_background(listener, Echo)
            import asyncio
            loop = asyncio.get_running_loop()
            await asyncio.gather(*[loop.run_in_executor(None, client, port, [b"a%d" % i], results)
                                   for i in range(5)])
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

        erlang.run(main())
        self.assertEqual(sorted(results), [b"a%d" % i for i in range(5)])

    def test_a_bad_verdict_closes_the_connection(self):
        class Odd(Protocol):
            def data_received(self, data):
                return "maybe"

        ours, theirs = socket.socketpair()
        theirs.sendall(b"x")
        serve(ours, Odd)
        self.assertEqual(theirs.recv(100), b"")
        theirs.close()

    def test_serve_wants_a_socket(self):
        with self.assertRaises(TypeError):
            serve("not a socket", Echo)


if __name__ == "__main__":
    unittest.main()
