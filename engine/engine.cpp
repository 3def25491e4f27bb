#include "engine/engine.hpp"

#include <algorithm>
#include <caf/all.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "engine/detail/context_actor.hpp"
#include "engine/detail/idle_interpreters.hpp"
#include "engine/python/interruptible_sleep.hpp"
#include "engine/python/python.hpp"

namespace epy {

namespace {

using watch_atom = caf::atom_constant<caf::atom("watch")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;

// Creating an OWN_GIL subinterpreter is the only honest test that they work here.
bool probe_subinterpreters() {
#if EPY_HAVE_OWN_GIL
  std::string error;
  auto interp = Interpreter::create({InterpreterMode::subinterp, {}}, &error);
  return interp != nullptr;  // ending it happens right here, on this thread
#else
  return false;
#endif
}

}  // namespace

struct Engine::Impl {
  EngineConfig config;
  std::thread thread;

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::function<void(caf::actor_system&)>> commands;
  bool quit = false;
  bool started = false;
  std::string start_error;

  bool subinterp_ok = false;
  caf::actor supervisor;  // engine thread only
  std::unique_ptr<detail::IdleInterpreters> idle;
  std::unique_ptr<PriorityGovernor> governor;
  StateStore state;

  mutable std::mutex registry_mutex;
  std::vector<std::weak_ptr<Context>> registry;
  ExitHandler exit_handler;
  bool shut_down = false;

  void post(std::function<void(caf::actor_system&)> command) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      commands.push_back(std::move(command));
    }
    cv.notify_one();
  }

  void context_exited(std::uint32_t id, const std::string& reason) {
    ExitHandler handler;
    {
      std::lock_guard<std::mutex> lock(registry_mutex);
      handler = exit_handler;
    }
    if (handler) handler(id, reason);
  }

  void main();
};

namespace {

struct SupervisorState {
  std::map<caf::actor_addr, std::uint32_t> watched;
  bool draining = false;  // quit once the last watched context has ended
};

using ExitCallback = std::function<void(std::uint32_t, const std::string&)>;

caf::behavior supervisor_actor(caf::stateful_actor<SupervisorState>* self,
                               const ExitCallback& exited) {
  self->set_down_handler([=](caf::down_msg& msg) {
    auto it = self->state.watched.find(msg.source);
    if (it == self->state.watched.end()) return;
    const std::uint32_t id = it->second;
    self->state.watched.erase(it);
    exited(id, msg.reason ? caf::to_string(msg.reason) : std::string("normal"));
    if (self->state.draining && self->state.watched.empty()) self->quit();
  });
  return {
      [=](watch_atom, const caf::actor& context, std::uint32_t id) {
        self->monitor(context);
        self->state.watched.emplace(context.address(), id);
      },
      [=](drain_atom) {
        self->state.draining = true;
        if (self->state.watched.empty()) self->quit();
      },
  };
}

}  // namespace

void Engine::Impl::main() {
  std::string error;
  if (!PythonRuntime::ensure_initialized(config.python, &error)) {
    std::lock_guard<std::mutex> lock(mutex);
    start_error = error;
    started = true;
    cv.notify_all();
    return;
  }
  {
    PyGILState_STATE gil = PyGILState_Ensure();
    const bool ok = make_time_sleep_interruptible(&error);
    PyGILState_Release(gil);
    if (!ok) {
      std::lock_guard<std::mutex> lock(mutex);
      start_error = "time.sleep: " + error;
      started = true;
      cv.notify_all();
      return;
    }
  }
  subinterp_ok = probe_subinterpreters();

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 1);  // only the supervisor runs on the scheduler
  {
    caf::actor_system system{cfg};
    supervisor = system.spawn(supervisor_actor,
                              ExitCallback([this](std::uint32_t id, const std::string& reason) {
                                context_exited(id, reason);
                              }));
    {
      std::lock_guard<std::mutex> lock(mutex);
      started = true;
    }
    cv.notify_all();

    for (;;) {
      std::function<void(caf::actor_system&)> command;
      {
        std::unique_lock<std::mutex> lock(mutex);
        cv.wait(lock, [&] { return quit || !commands.empty(); });
        if (commands.empty()) break;  // quit, and nothing left to do
        command = std::move(commands.front());
        commands.pop_front();
      }
      command(system);
    }
    // The supervisor reports every context's end before it quits; hold on to it until then
    // (an actor nobody references any more is discarded with its mailbox).
    {
      caf::scoped_actor self{system};
      self->monitor(supervisor);
      self->send(supervisor, drain_atom::value);
      self->receive([](caf::down_msg&) {});
    }
    supervisor = nullptr;
  }  // ~actor_system waits for every actor, on the thread that built it
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Engine> Engine::start(const EngineConfig& config, std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->idle = std::make_unique<detail::IdleInterpreters>(config.max_idle_interpreters);
  impl->governor = std::make_unique<PriorityGovernor>(config.priority);
  impl->state.set_limits(config.state_limits);
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), "py-engine");
    raw->main();
  });
  {
    std::unique_lock<std::mutex> lock(raw->mutex);
    raw->cv.wait(lock, [&] { return raw->started; });
  }
  if (!raw->start_error.empty()) {
    *error = raw->start_error;
    raw->thread.join();
    return nullptr;
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::~Engine() {
  shutdown();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::shared_ptr<Context> Engine::spawn(ContextConfig config) {
  auto context = std::make_shared<Context>(std::move(config));
  Impl* impl = impl_.get();
  context->set_main_thread_runner([impl](std::function<void()> task) {
    impl->post([task = std::move(task)](caf::actor_system&) { task(); });
  });
  context->set_priority_governor(impl->governor.get());
  {
    std::lock_guard<std::mutex> lock(impl->registry_mutex);
    if (impl->shut_down) {
      context->stop({FailureKind::shutting_down, {}});
      return context;
    }
    auto& reg = impl->registry;
    reg.erase(std::remove_if(reg.begin(), reg.end(), [](auto& w) { return w.expired(); }),
              reg.end());
    reg.push_back(context);
  }
  // A parked thread with a reusable subinterpreter takes the context if there is one.
  if (context->mode() == InterpreterMode::subinterp && impl->idle->adopt(context)) return context;
  impl->post([impl, context](caf::actor_system& system) {
    caf::actor actor = system.spawn<detail::ContextActor>(context, impl->idle.get());
    caf::anon_send(impl->supervisor, watch_atom::value, actor, context->id());
  });
  return context;
}

void Engine::run_on_main(std::function<void()> task) {
  impl_->post([task = std::move(task)](caf::actor_system&) { task(); });
}

bool Engine::subinterp_supported() const { return impl_->subinterp_ok; }

std::size_t Engine::idle_interpreters() const { return impl_->idle->idle(); }

StateStore& Engine::state() { return impl_->state; }

const PriorityGovernor& Engine::priority() const { return *impl_->governor; }

std::vector<std::shared_ptr<Context>> Engine::contexts() const {
  std::vector<std::shared_ptr<Context>> live;
  std::lock_guard<std::mutex> lock(impl_->registry_mutex);
  for (auto& weak : impl_->registry)
    if (auto c = weak.lock())
      if (c->state() != Context::State::stopped) live.push_back(std::move(c));
  return live;
}

void Engine::set_exit_handler(ExitHandler handler) {
  std::lock_guard<std::mutex> lock(impl_->registry_mutex);
  impl_->exit_handler = std::move(handler);
}

void Engine::shutdown() {
  std::vector<std::shared_ptr<Context>> live;
  {
    std::lock_guard<std::mutex> lock(impl_->registry_mutex);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
    for (auto& weak : impl_->registry)
      if (auto c = weak.lock()) live.push_back(std::move(c));
    impl_->registry.clear();
  }
  for (auto& c : live) c->stop({FailureKind::shutting_down, {}});
  // A context whose spawn command is still queued starts, sees the stop and ends at once.
  for (auto& c : live) c->wait_stopped(std::chrono::hours(24));
  live.clear();
  impl_->idle->close();  // parked interpreters end with their threads
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->quit = true;
  }
  impl_->cv.notify_all();
}

}  // namespace epy
