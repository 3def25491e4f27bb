// Reading the current Python exception into plain data that outlives the interpreter.
#pragma once

#include <string>

namespace epy {

struct PyErrorInfo {
  std::string type_name;     // the exception class's __name__, e.g. "ZeroDivisionError"
  std::string builtin_base;  // nearest built-in exception class in its MRO, e.g. "ValueError"
  std::string message;       // str(exception), UTF-8 (unencodable characters escaped)
  bool keyboard_interrupt = false;
};

// Takes (and clears) the exception currently set. Interpreter attached; an exception must
// be set.
PyErrorInfo fetch_error();

}  // namespace epy
