// The shared state from Python: the state_* functions of the `_erlang` module.
#pragma once

#include "engine/python/python.hpp"

namespace epy::nif {

PyObject* py_state_set(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_state_get(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_state_delete(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_state_keys(PyObject* module, PyObject* unused);
PyObject* py_state_incr(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_state_decr(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_state_cas(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_state_wait(PyObject* module, PyObject* const* args, Py_ssize_t nargs);

}  // namespace epy::nif
