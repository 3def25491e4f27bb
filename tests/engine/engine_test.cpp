#include <thread>

#include "engine/python/runtime.hpp"
#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

TEST(Engine, ReportsWhetherSubinterpretersWork) {
  EXPECT_EQ(engine().subinterp_supported(), PythonRuntime::own_gil_available());
}

TEST(Engine, RunsTasksOnThePythonMainThread) {
  std::promise<bool> done;
  engine().run_on_main([&] {
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject* threading = PyImport_ImportModule("threading");
    PyObject* main = threading ? PyObject_CallMethod(threading, "main_thread", nullptr) : nullptr;
    PyObject* current =
        threading ? PyObject_CallMethod(threading, "current_thread", nullptr) : nullptr;
    const bool same = main && main == current;
    Py_XDECREF(main);
    Py_XDECREF(current);
    Py_XDECREF(threading);
    PyErr_Clear();
    PyGILState_Release(g);
    done.set_value(same);
  });
  EXPECT_TRUE(done.get_future().get());
}

// A second engine in the same process: its own actor system, the same CPython. Its
// shutdown answers pending work and reports every context's exit.
TEST(Engine, ShutdownStopsContextsAndReportsTheirExit) {
  EngineConfig config;
  config.python.home = EPY_TEST_PYTHON_HOME;
  config.python.reset_program_path = EPY_TEST_RESET_PROGRAM;
  std::string error;
  auto second = Engine::start(config, &error);
  ASSERT_TRUE(second) << error;

  std::mutex m;
  std::vector<std::uint32_t> exited;
  second->set_exit_handler([&](std::uint32_t id, const std::string&) {
    std::lock_guard<std::mutex> lock(m);
    exited.push_back(id);
  });

  Inbox inbox;
  std::vector<std::shared_ptr<Context>> contexts;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    auto ready = std::make_shared<std::promise<bool>>();
    ContextConfig cc;
    cc.id = id;
    cc.interpreter.mode = available_modes().front();
    cc.job_factory = [] { return std::make_unique<TestJob>(); };
    cc.on_ready = [ready](bool ok, const std::string&) { ready->set_value(ok); };
    contexts.push_back(second->spawn(std::move(cc)));
    ASSERT_TRUE(ready->get_future().get());
  }
  EXPECT_EQ(second->contexts().size(), 3u);
  submit(*contexts[0], inbox, MessageKind::exec, 1, "while True:\n    pass");
  submit(*contexts[0], inbox, MessageKind::eval, 2, "1");
  std::this_thread::sleep_for(20ms);

  second->shutdown();
  for (auto& c : contexts) EXPECT_EQ(c->state(), Context::State::stopped);
  int failed = 0;
  while (auto o = inbox.pop(100ms)) failed += o->failed;
  EXPECT_EQ(failed, 2);
  second.reset();  // joins the engine thread: the actor system is gone
  std::lock_guard<std::mutex> lock(m);
  EXPECT_EQ(exited.size(), 3u);
}

}  // namespace
}  // namespace epy::test
