#include "engine/envelope.hpp"

namespace epy {

const char* to_string(MessageKind kind) {
  switch (kind) {
    case MessageKind::call:
      return "call";
    case MessageKind::eval:
      return "eval";
    case MessageKind::exec:
      return "exec";
    case MessageKind::task:
      return "task";
    case MessageKind::cancel:
      return "cancel";
    case MessageKind::stop:
      return "stop";
    case MessageKind::wake:
      return "wake";
  }
  return "unknown";
}

}  // namespace epy
