// A context's asyncio loop: how the engine drives it (BackgroundWork, between requests)
// and the `_erlang` functions through which the erlang package's loop (erlang/_loop.py)
// waits in the context instead of blocking it.
#pragma once

#include <cstdint>

#include "engine/python/python.hpp"

namespace epy::nif {

// _drive(loop, fd): makes `loop` the calling context's own loop, run whenever the context
// serves no request; fd is its selector's descriptor. Replaces a closed one.
PyObject* py_drive(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

// _context_loop() -> the calling context's own loop, or None.
PyObject* py_context_loop(PyObject* module, PyObject* unused);

// _in_context() -> whether the calling thread is a context's.
PyObject* py_in_context(PyObject* module, PyObject* unused);

// _wait(fd, timeout) -> True when fd is readable, False when timeout (seconds; negative:
// none) passed first, None off a context thread (the caller then waits by itself). The
// context serves its mailbox meanwhile. A zero timeout serves what is queued, then True.
PyObject* py_wait(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

// _sleep(seconds): waits, serving the context's mailbox meanwhile (off a context thread:
// time.sleep). Zero serves what is queued and returns.
PyObject* py_sleep(PyObject* module, PyObject* seconds);

}  // namespace epy::nif
