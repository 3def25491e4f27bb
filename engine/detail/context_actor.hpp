// The CAF actor that gives a Context its identity and its thread.
//
// A blocking actor always runs on a thread of its own for its whole life, which is what a
// Python interpreter needs. Its act() is the context's loop; the per-request traffic goes
// through the context's own Mailbox (CAF's mailbox is far too slow for a microsecond round
// trip), while CAF provides spawning, monitoring (the engine's supervisor learns when a
// context ends and why) and the orderly shutdown of the actor system.
#pragma once

#include <caf/blocking_actor.hpp>
#include <memory>

namespace epy {
class Context;
}
namespace epy::detail {
class IdleInterpreters;
}

namespace epy::detail {

// After its context stops, the actor may park with the context's interpreter and serve a
// later context with it (IdleInterpreters); it ends when it has no interpreter left.
class ContextActor : public caf::blocking_actor {
 public:
  ContextActor(caf::actor_config& config, std::shared_ptr<Context> context, IdleInterpreters* idle);

  void act() override;
  const char* name() const override { return "epy.context"; }

 private:
  std::shared_ptr<Context> context_;
  IdleInterpreters* idle_;
};

}  // namespace epy::detail
