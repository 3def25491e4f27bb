// Subinterpreters of contexts stopped on purpose serve later contexts, reset to the state
// a fresh context starts in (CPython 3.12/3.13 leak ~1.7 MB per subinterpreter ended).
#include <stdlib.h>

#include <fstream>
#include <thread>

#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

#if EPY_HAVE_OWN_GIL

std::string eval(Context& ctx, const std::string& code) {
  Inbox inbox;
  submit(ctx, inbox, MessageKind::eval, 1, code);
  auto o = inbox.pop();
  if (!o) return "<no answer>";
  return o->ok ? o->value : o->error_type + ": " + o->error_message;
}

std::string exec(Context& ctx, const std::string& code) {
  Inbox inbox;
  submit(ctx, inbox, MessageKind::exec, 1, code);
  auto o = inbox.pop();
  if (!o) return "<no answer>";
  return o->ok ? o->value : o->error_type + ": " + o->error_message;
}

void stop(Context& ctx, FailureKind why = FailureKind::shutting_down) {
  ctx.stop({why, {}});
  ASSERT_TRUE(ctx.wait_stopped(10s));
}

TEST(Recycling, AStoppedContextPassesAFreshInterpreterOn) {
  char dir_template[] = "/tmp/epy-recycle-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  std::ofstream(dir + "/epy_user_mod.py") << "state = []\n";

  auto first = start_context(InterpreterMode::subinterp, 64, 41);
  ASSERT_TRUE(first.ok) << first.error;
  Context& a = *first.context;
  const long thread = a.stats().os_thread_id;
  EXPECT_EQ(exec(a,
                 "import sys, builtins, atexit\n"
                 "sys.path.insert(0, " +
                     std::string("'") + dir +
                     "')\n"
                     "import epy_user_mod\n"
                     "epy_user_mod.state.append(1)\n"
                     "secret = 42\n"
                     "builtins.len = lambda x: -1\n"
                     "sys.setrecursionlimit(123)\n"
                     "sys.epy_flag = True\n"
                     "atexit.register(lambda: epy_user_mod.state.append('atexit ran'))\n"),
            "None");
  const std::size_t idle_before = engine().idle_interpreters();
  stop(a);
  EXPECT_EQ(engine().idle_interpreters(), idle_before + 1);

  auto second = start_context(InterpreterMode::subinterp, 64, 42);
  ASSERT_TRUE(second.ok) << second.error;
  Context& b = *second.context;
  EXPECT_EQ(b.stats().os_thread_id, thread) << "the parked thread took the new context";
  EXPECT_EQ(engine().idle_interpreters(), idle_before);
  EXPECT_EQ(eval(b, "secret"), "NameError: name 'secret' is not defined");
  EXPECT_EQ(eval(b, "'epy_user_mod' in __import__('sys').modules"), "False");
  EXPECT_EQ(eval(b, "__import__('sys').path[0] == '" + dir + "'"), "False");
  EXPECT_EQ(eval(b, "len([1, 2])"), "2");
  EXPECT_EQ(eval(b, "__import__('sys').getrecursionlimit()"), "1000");
  EXPECT_EQ(eval(b, "hasattr(__import__('sys'), 'epy_flag')"), "False");
  stop(b);
}

// A package kept from the sealed state (encodings) must not go on naming a submodule
// imported into it later: `from encodings import idna` would return the old module, and
// with it stale functions (on 3.12, asyncio's running-loop cache pointing at freed loops).
TEST(Recycling, KeptPackagesForgetSubmodulesImportedSince) {
  auto first = start_context(InterpreterMode::subinterp, 64, 46);
  ASSERT_TRUE(first.ok) << first.error;
  Context& a = *first.context;
  EXPECT_EQ(exec(a,
                 "import sys, asyncio, encodings.idna\n"
                 "assert 'encodings' in sys.modules\n"
                 "old_idna = encodings.idna\n"
                 "loop = asyncio.new_event_loop()\n"
                 "asyncio.events._set_running_loop(loop)\n"),
            "None");
  stop(a);

  auto second = start_context(InterpreterMode::subinterp, 64, 47);
  ASSERT_TRUE(second.ok) << second.error;
  Context& b = *second.context;
  EXPECT_EQ(eval(b, "hasattr(__import__('encodings'), 'idna')"), "False");
  EXPECT_EQ(exec(b,
                 "import sys\n"
                 "from encodings import idna\n"
                 "assert idna is sys.modules['encodings.idna']\n"
                 "import asyncio\n"
                 "assert asyncio.events._get_running_loop() is None\n"
                 "loop = asyncio.new_event_loop()\n"
                 "asyncio.events._set_running_loop(loop)\n"
                 "asyncio.events._set_running_loop(None)\n"
                 "loop.close()\n"
                 "del loop\n"
                 "import gc; gc.collect()\n"
                 "assert asyncio.events._get_running_loop() is None\n"),
            "None");
  stop(b);
}

TEST(Recycling, AContextThatDiedEndsItsInterpreter) {
  auto first = start_context(InterpreterMode::subinterp, 64, 43);
  ASSERT_TRUE(first.ok);
  const long thread = first.context->stats().os_thread_id;
  const std::size_t idle_before = engine().idle_interpreters();
  stop(*first.context, FailureKind::context_died);
  EXPECT_EQ(engine().idle_interpreters(), idle_before);
  auto second = start_context(InterpreterMode::subinterp, 64, 44);
  ASSERT_TRUE(second.ok);
  EXPECT_NE(second.context->stats().os_thread_id, thread);
  stop(*second.context);
}

TEST(Recycling, AnInterpreterWithRunningThreadsIsNotPassedOn) {
  auto first = start_context(InterpreterMode::subinterp, 64, 45);
  ASSERT_TRUE(first.ok);
  EXPECT_EQ(exec(*first.context,
                 "import threading, time\n"
                 "t = threading.Thread(target=time.sleep, args=(0.3,))\n"
                 "t.start()\n"),
            "None");
  const std::size_t idle_before = engine().idle_interpreters();
  // The thread still runs at the stop: no reset; ending the interpreter joins it.
  stop(*first.context);
  EXPECT_EQ(engine().idle_interpreters(), idle_before);

  // A thread that has finished is no obstacle.
  auto second = start_context(InterpreterMode::subinterp, 64, 46);
  ASSERT_TRUE(second.ok);
  EXPECT_EQ(exec(*second.context,
                 "import threading\n"
                 "t = threading.Thread(target=lambda: None)\n"
                 "t.start()\n"
                 "t.join()\n"),
            "None");
  const std::size_t idle_running = engine().idle_interpreters();
  stop(*second.context);
  EXPECT_EQ(engine().idle_interpreters(), idle_running + 1);
}

TEST(Recycling, TheIdlePoolIsBounded) {
  EngineConfig config;
  config.python.home = EPY_TEST_PYTHON_HOME;
  config.python.reset_program_path = EPY_TEST_RESET_PROGRAM;
  config.max_idle_interpreters = 1;
  std::string error;
  auto small = Engine::start(config, &error);
  ASSERT_TRUE(small) << error;
  std::vector<std::shared_ptr<Context>> contexts;
  for (std::uint32_t id = 1; id <= 3; ++id) {
    auto ready = std::make_shared<std::promise<bool>>();
    ContextConfig cc;
    cc.id = id;
    cc.interpreter.mode = InterpreterMode::subinterp;
    cc.job_factory = [] { return std::make_unique<TestJob>(); };
    cc.on_ready = [ready](bool ok, const std::string&) { ready->set_value(ok); };
    contexts.push_back(small->spawn(std::move(cc)));
    ASSERT_TRUE(ready->get_future().get());
  }
  for (auto& c : contexts) {
    c->stop({FailureKind::shutting_down, {}});
    ASSERT_TRUE(c->wait_stopped(10s));
  }
  EXPECT_EQ(small->idle_interpreters(), 1u);
  small->shutdown();
  EXPECT_EQ(small->idle_interpreters(), 0u);
}

#endif

}  // namespace
}  // namespace epy::test
