#include "engine/python/error.hpp"

#include <cstring>

#include "engine/python/python.hpp"

namespace epy {

namespace {

std::string utf8_of(PyObject* text) {
  py::Ref bytes(PyUnicode_AsEncodedString(text, "utf-8", "backslashreplace"));
  if (!bytes) {
    PyErr_Clear();
    return {};
  }
  return std::string(PyBytes_AS_STRING(bytes.get()), size_t(PyBytes_GET_SIZE(bytes.get())));
}

std::string type_name_of(PyTypeObject* type) {
  py::Ref name(PyType_GetName(type));
  if (!name) {
    PyErr_Clear();
    return type->tp_name;
  }
  return utf8_of(name.get());
}

// Built-in exception types are static types whose tp_name has no module prefix;
// extension types are "module.Name" and classes defined in Python are heap types.
bool is_builtin_type(PyTypeObject* type) {
  return !(type->tp_flags & Py_TPFLAGS_HEAPTYPE) && std::strchr(type->tp_name, '.') == nullptr;
}

std::string builtin_base_of(PyTypeObject* type) {
  PyObject* mro = type->tp_mro;
  if (mro && PyTuple_Check(mro)) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); ++i) {
      auto* base = reinterpret_cast<PyTypeObject*>(PyTuple_GET_ITEM(mro, i));
      if (is_builtin_type(base)) return base->tp_name;
    }
  }
  return "Exception";
}

PyObject* take_exception() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyErr_GetRaisedException();
#else
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && tb) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
#endif
}

}  // namespace

PyErrorInfo fetch_error() {
  PyErrorInfo info;
  py::Ref exc(take_exception());
  if (!exc) {
    info.type_name = info.builtin_base = "SystemError";
    info.message = "error return without exception set";
    return info;
  }
  PyTypeObject* type = Py_TYPE(exc.get());
  info.type_name = type_name_of(type);
  info.builtin_base = builtin_base_of(type);
  info.keyboard_interrupt = PyErr_GivenExceptionMatches(exc.get(), PyExc_KeyboardInterrupt);
  py::Ref text(PyObject_Str(exc.get()));
  if (text) {
    info.message = utf8_of(text.get());
  } else {
    PyErr_Clear();
    info.message = "<str() of the exception failed>";
  }
  return info;
}

}  // namespace epy
