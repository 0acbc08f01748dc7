// The C++ quick starts of client/examples, run as a user runs them: a fresh process against a
// running osbd, found through OSBD_SOCKET.
#include <gtest/gtest.h>

#include <string>

#include "gmock/gmock.h"
#include "tests/integration/harness.h"

namespace osb::test {
namespace {

using ::testing::HasSubstr;

class SdkExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = Stack::Start();
    ASSERT_NE(stack_, nullptr);
  }

  ProcessResult RunExample(const std::string& name) {
    return RunProcess({BinDir() + "/example_" + name}, {"OSBD_SOCKET=" + stack_->socket_path()});
  }

  std::unique_ptr<Stack> stack_;
};

TEST_F(SdkExamplesTest, Hello) {
  auto r = RunExample("hello");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("Hello from Linux\n"));
}

TEST_F(SdkExamplesTest, Streaming) {
  auto r = RunExample("streaming");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("out: hi 1\nout: hi 2\nout: hi 3\nerr: oops\n"
                                       "[failed: CommandExecError 3]\n"
                                       "exit code 3, 3 lines of stdout\n"));
}

TEST_F(SdkExamplesTest, Files) {
  auto r = RunExample("files");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("listing:\nout\nrun.sh\n"));
  EXPECT_THAT(r.out, HasSubstr("big.bin: 8388608 bytes; run.sh mode 755\n"));
  EXPECT_THAT(r.out, HasSubstr("found 1 script(s)\n"));
}

TEST_F(SdkExamplesTest, Manager) {
  auto r = RunExample("manager");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("2 sandboxes labelled example=manager\n"));
  EXPECT_THAT(r.out, HasSubstr("paused and resumed "));
}

TEST_F(SdkExamplesTest, Pools) {
  auto r = RunExample("pools");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("job 0: worker 42"));
  EXPECT_THAT(r.out, HasSubstr("job 2: worker 42"));
  EXPECT_THAT(r.out, HasSubstr("warm acquires: "));
}

TEST_F(SdkExamplesTest, Code) {
  auto r = RunExample("code");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "radius 2\narea 12.57 (cell 2)\nthen ZeroDivisionError: division by zero\n");
}

TEST_F(SdkExamplesTest, WithoutADaemonTheErrorSaysWhatToDo) {
  auto r = RunProcess({BinDir() + "/example_hello"}, {"OSBD_SOCKET=/nonexistent/osbd.sock"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("UNAVAILABLE: no osbd answers on /nonexistent/osbd.sock"));
}

}  // namespace
}  // namespace osb::test
