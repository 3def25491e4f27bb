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
  std::int32_t pushed_on_cpu = -1;  // set by Mailbox::push: where the producer ran...
  std::int64_t pushed_ns = 0;       // ...and when, on the steady clock (see SpinPolicy)
};

}  // namespace epy
