// Timeouts that Python code passes (seconds as int or float, None for none) as deadlines
// on the steady clock: the one way every waiting function of the erlang package reads
// them.
#pragma once

#include <chrono>

struct _object;
typedef struct _object PyObject;

namespace epy {

using Deadline = std::chrono::steady_clock::time_point;

// `seconds` from now; negative: no deadline (time_point::max()). Beyond ~30 years: none.
Deadline deadline_after(double seconds);

// A number of seconds (int or float, not NaN). False with TypeError / ValueError set,
// naming `what`.
bool seconds_of(PyObject* obj, const char* what, double* out);

// A timeout argument: None (or absent: nullptr) is no deadline, a number of seconds >= 0
// a deadline from now. False with TypeError / ValueError set, naming `what`.
bool deadline_of(PyObject* timeout, const char* what, Deadline* out);

}  // namespace epy
