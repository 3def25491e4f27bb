"""CPython's own test_asyncio cases about the loop's public API, against ErlangEventLoop
(see cpython_asyncio_compat.py): everything passes except what is refused by design."""

import sys
import unittest

import cpython_asyncio_compat


class CPythonAsyncioTest(unittest.TestCase):
    def test_loop_api_cases_pass(self):
        ok, report = cpython_asyncio_compat.run()
        print("\n" + report, file=sys.__stderr__, flush=True)
        self.assertTrue(ok, report)


if __name__ == "__main__":
    unittest.main()
