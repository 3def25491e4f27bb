// The sandbox in every interpreter mode: process creation, exits and signals are refused
// before user code can reach them.
#include "engine/python/sandbox.hpp"

#include "engine_fixture.hpp"

using namespace std::chrono_literals;

namespace epy::test {
namespace {

class SandboxTest : public ContextFixture {
 protected:
  Outcome run(const std::string& code) { return ContextFixture::run(MessageKind::exec, code); }
};

TEST_P(SandboxTest, IsActive) { EXPECT_TRUE(Sandbox::active()); }

TEST_P(SandboxTest, ProcessCreationIsRefused) {
  for (const char* code :
       {"import subprocess\nsubprocess.run(['true'])", "import os\nos.system('true')",
        "import os\nos.fork()", "import os\nos.posix_spawn('/bin/true', ['true'], {})",
        "import os\nos.execv('/bin/true', ['true'])",
        "import _posixsubprocess\n_posixsubprocess.fork_exec()"}) {
    const Outcome o = run(code);
    EXPECT_FALSE(o.ok) << code;
    EXPECT_EQ(o.error_type, "RuntimeError") << code;
    EXPECT_EQ(o.error_message.rfind("fork() blocked by sandbox", 0), 0u)
        << code << ": " << o.error_message;
  }
}

TEST_P(SandboxTest, EndingOrSignallingTheProcessIsRefused) {
  for (const char* code :
       {"import os\nos._exit(0)", "import os\nos.abort()", "import signal\nsignal.alarm(1)",
        "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)"}) {
    const Outcome o = run(code);
    EXPECT_EQ(o.error_type, "RuntimeError") << code;
    EXPECT_NE(o.error_message.find("blocked by sandbox"), std::string::npos) << o.error_message;
  }
  const Outcome handler = run("import signal\nsignal.signal(signal.SIGTERM, print)");
  EXPECT_EQ(handler.error_type, "ValueError");
  EXPECT_EQ(handler.error_message.rfind("Signal handlers not supported", 0), 0u);
  EXPECT_TRUE(run("import os\nos.kill(os.getpid(), 0)").ok);  // only asks: allowed
}

INSTANTIATE_TEST_SUITE_P(Modes, SandboxTest, ::testing::ValuesIn(available_modes()), mode_name);

}  // namespace
}  // namespace epy::test
