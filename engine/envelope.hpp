// The mailbox vocabulary: everything a Python context can be asked to do.
//
// Every capability of the library reaches a context as one of these kinds through the
// same mailbox; later capabilities add kinds here, never a second queue.
#pragma once

#include <cstdint>

namespace epy {

enum class MessageKind : std::uint8_t {
  call,    // module.function(*args, **kwargs); the job replies with the result
  eval,    // evaluate an expression in the context namespace
  exec,    // execute statements in the context namespace
  task,    // module.function(...) as an asyncio task of the context's loop: the reply
           // waits for the task (a deferred request)
  cancel,  // the caller gave up on a deferred request: cancel its work
  stop,    // leave the loop: answer what is still queued, end the interpreter
  wake,    // something a waiting request waits for may have happened (state change,
           // interrupt): look again
};

const char* to_string(MessageKind kind);

// Kinds that name a request slot (and so must be answered).
inline bool is_request(MessageKind kind) {
  return kind == MessageKind::call || kind == MessageKind::eval || kind == MessageKind::exec ||
         kind == MessageKind::task;
}

// One mailbox item. Requests that carry data name a slot of the context's RequestTable,
// so the envelope stays small and trivially copyable.
struct Envelope {
  MessageKind kind = MessageKind::stop;
  std::uint32_t slot = 0;
  // Set by Mailbox::push while the consumer waits (see SpinPolicy): where the producer ran
  // and when, on the steady clock (0: not stamped).
  std::int32_t pushed_on_cpu = -1;
  std::int64_t pushed_ns = 0;
};

}  // namespace epy
