#include "engine/failure.hpp"

namespace epy {

const char* to_string(FailureKind kind) {
  switch (kind) {
    case FailureKind::shutting_down:
      return "shutting_down";
    case FailureKind::context_died:
      return "context_died";
    case FailureKind::overloaded:
      return "overloaded";
  }
  return "unknown";
}

}  // namespace epy
