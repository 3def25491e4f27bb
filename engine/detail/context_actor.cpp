#include "engine/python/python.hpp"

#include "engine/detail/context_actor.hpp"

#include <caf/all.hpp>

#include "engine/context.hpp"

namespace epy::detail {

ContextActor::ContextActor(caf::actor_config& config, std::shared_ptr<Context> context)
    : caf::blocking_actor(config), context_(std::move(context)) {}

void ContextActor::act() {
  // An exit message (the actor system going down) stops the context like stop() does.
  context_->run(*this);
  context_.reset();
}

bool ContextActor::drain_control() {
  bool keep_running = true;
  bool more = true;
  while (more && !mailbox().empty()) {
    receive([&](caf::exit_msg&) { keep_running = false; },
            caf::others >> [&](caf::message_view&) -> caf::result<caf::message> {
              return caf::message{};
            },
            caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
  }
  return keep_running;
}

}  // namespace epy::detail
