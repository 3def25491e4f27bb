// The `_erlang` functions that reach Erlang processes: send, call (registered Erlang
// functions), self, whereis, atom.
#pragma once

#include "engine/python/python.hpp"

namespace epy::nif {

PyObject* py_send(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_call(PyObject* module, PyObject* const* args, Py_ssize_t nargs);
PyObject* py_is_registered(PyObject* module, PyObject* name);
PyObject* py_self(PyObject* module, PyObject* unused);
PyObject* py_whereis(PyObject* module, PyObject* name);
PyObject* py_atom(PyObject* module, PyObject* name);

}  // namespace epy::nif
