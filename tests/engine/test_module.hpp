#pragma once

struct _object;
typedef struct _object PyObject;

namespace epy::test {
PyObject* init_test_module();
}
