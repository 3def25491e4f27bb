// The done callback the engine gives a task it starts for a request (see
// ContextConfig::start_task): a Python callable that, called with the task, calls
// `done(token, task)` on the thread that calls it (the context's, whose loop runs the task).
#pragma once

#include <cstdint>

struct _object;
typedef struct _object PyObject;

namespace epy {

using TaskDone = void (*)(std::uint64_t token, PyObject* task);

// Attached. A new reference, or nullptr with a Python exception set.
PyObject* make_task_callback(std::uint64_t token, TaskDone done);

// Whether `obj` can be awaited (coroutines, futures, anything with __await__).
bool is_awaitable(PyObject* obj);

}  // namespace epy
