// Why a request was not (or could not be) served by Python.
#pragma once

#include <string>

namespace epy {

enum class FailureKind {
  shutting_down,  // the context was stopped on purpose while the request waited
  context_died,   // the context's owner died; `detail` carries its exit reason
  overloaded,     // the context's mailbox is full
};

struct Failure {
  FailureKind kind = FailureKind::shutting_down;
  // Opaque to the engine. The NIF stores the owner's exit reason here in Erlang
  // external term format so that callers see {error, {context_died, Reason}}.
  std::string detail;
};

const char* to_string(FailureKind kind);

}  // namespace epy
