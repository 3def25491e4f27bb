#include "engine/detail/context_actor.hpp"

#include "engine/context.hpp"
#include "engine/detail/idle_interpreters.hpp"
#include "engine/python/python.hpp"

namespace epy::detail {

ContextActor::ContextActor(caf::actor_config& config, std::shared_ptr<Context> context,
                           IdleInterpreters* idle)
    : caf::blocking_actor(config), context_(std::move(context)), idle_(idle) {}

void ContextActor::act() {
  std::shared_ptr<Context> context = std::move(context_);
  std::unique_ptr<Interpreter> interp;
  while (context) {
    interp = context->run(std::move(interp));
    IdleInterpreters::Place place = interp ? idle_->enter() : nullptr;
    if (!place) interp.reset();  // ends it here, on the thread that owns it
    if (interp) interp->detach();
    context->announce_finished();
    context.reset();
    if (!place) break;
    context = idle_->wait(place);
    interp->attach();
    if (!context) interp.reset();
  }
}

}  // namespace epy::detail
