#include "engine/python/python.hpp"

#include "engine/detail/context_actor.hpp"

#include "engine/context.hpp"

namespace epy::detail {

ContextActor::ContextActor(caf::actor_config& config, std::shared_ptr<Context> context)
    : caf::blocking_actor(config), context_(std::move(context)) {}

void ContextActor::act() {
  context_->run();
  context_.reset();
}

}  // namespace epy::detail
