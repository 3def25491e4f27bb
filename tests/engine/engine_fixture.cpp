#include "engine_fixture.hpp"

#include <thread>

#include "engine/python/runtime.hpp"
#include "test_module.hpp"

namespace epy::test {

namespace {
std::unique_ptr<Engine> g_engine;
}

Engine& engine() {
  if (!g_engine) {
    EngineConfig config;
    config.python.home = EPY_TEST_PYTHON_HOME;
    config.python.reset_program_path = EPY_TEST_RESET_PROGRAM;
    config.python.builtin_modules.emplace_back("_epy_engine_test", &init_test_module);
    std::string error;
    g_engine = Engine::start(config, &error);
    if (!g_engine) {
      ADD_FAILURE() << "engine did not start: " << error;
      std::abort();
    }
  }
  return *g_engine;
}

std::vector<InterpreterMode> available_modes() {
  std::vector<InterpreterMode> modes;
  if (PythonRuntime::own_gil_available()) modes.push_back(InterpreterMode::subinterp);
  modes.push_back(PythonRuntime::free_threaded() ? InterpreterMode::free_threaded
                                                 : InterpreterMode::multi_executor);
  return modes;
}

StartedContext start_context(InterpreterMode mode, std::size_t max_pending, std::uint32_t id,
                             const std::function<void(ContextConfig&)>& adjust) {
  auto ready = std::make_shared<std::promise<std::pair<bool, std::string>>>();
  ContextConfig config;
  config.id = id;
  config.interpreter.mode = mode;
  config.max_pending = max_pending;
  config.job_factory = [] { return std::make_unique<TestJob>(); };
  config.on_ready = [ready](bool ok, const std::string& error) { ready->set_value({ok, error}); };
  if (adjust) adjust(config);
  StartedContext started;
  started.context = engine().spawn(std::move(config));
  auto result = ready->get_future().get();
  started.ok = result.first;
  started.error = result.second;
  return started;
}

Context::Submission submit(Context& ctx, Inbox& inbox, MessageKind kind, std::uint64_t request,
                           const std::string& module_or_code, const std::string& function,
                           std::vector<Arg> args) {
  return ctx.submit(kind, 0, request, [&](Job& job) {
    auto& j = static_cast<TestJob&>(job);
    j.request = request;
    j.inbox = &inbox;
    if (kind == MessageKind::call) {
      j.module = module_or_code;
      j.function = function;
      j.args = std::move(args);
    } else {
      j.code = module_or_code;
    }
  });
}

void ContextFixture::SetUp() {
  started_ = start_context(GetParam(), 1024, 1, [this](ContextConfig& config) { adjust(config); });
  ASSERT_TRUE(started_.ok) << started_.error;
  ctx_ = started_.context;
}

void ContextFixture::stop() {
  if (!ctx_) return;
  ctx_->stop({FailureKind::shutting_down, {}});
  EXPECT_TRUE(ctx_->wait_stopped(std::chrono::seconds(10)));
  ctx_.reset();
}

Outcome ContextFixture::run(MessageKind kind, const std::string& what, const std::string& function,
                            std::vector<Arg> args) {
  auto s = submit(*ctx_, inbox_, kind, ++request_, what, function, std::move(args));
  EXPECT_EQ(s.admission, Admission::accepted);
  auto o = inbox_.pop();
  EXPECT_TRUE(o.has_value());
  return o.value_or(Outcome{});
}

void ContextFixture::wait_until_executing() {
  while (!ctx_->stats().executing) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::string mode_name(const ::testing::TestParamInfo<InterpreterMode>& info) {
  return to_string(info.param);
}

}  // namespace epy::test
