#include "engine/python/method_patch.hpp"

namespace epy {

PyMethodDef* builtin_method_def(const char* module_name, const char* function_name,
                                std::string* error) {
  py::Ref module(PyImport_ImportModule(module_name));
  py::Ref function(module ? PyObject_GetAttrString(module.get(), function_name) : nullptr);
  if (!function) {
    PyErr_Clear();
    return nullptr;
  }
  if (!PyCFunction_Check(function.get())) {
    *error = std::string(module_name) + "." + function_name + " is not a built-in function";
    return nullptr;
  }
  return reinterpret_cast<PyCFunctionObject*>(function.get())->m_ml;
}

}  // namespace epy
