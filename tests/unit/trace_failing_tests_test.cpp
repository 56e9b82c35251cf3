// irqsim::testing::trace_failing_tests (include/irqsim/trace_failing_tests.hpp): a failing test's
// machines leave their traces in files named after it, and a passing test leaves nothing. The
// tests run trace_failing_tests_fixture, whose tests fail or pass on purpose, as a child process.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "file_contents.hpp"
#include "platform/shell.hpp"

namespace {

using ::testing::HasSubstr;

// The fixture program's run of one test, in a directory of its own.
class FixtureRun {
 public:
  explicit FixtureRun(const std::string& test)
      : directory_(std::filesystem::temp_directory_path() /
                   fmt::format("irqsim-trace-listener-{}-{}", test,
                               std::chrono::steady_clock::now().time_since_epoch().count())) {
    std::filesystem::create_directories(directory_);
    using irqsim::platform::shell_word;
    const std::string run = fmt::format("{} --gtest_filter=OnPurpose.{} > {} 2>&1", shell_word(IRQSIM_FIXTURE_PROGRAM),
                                        test, shell_word((directory_ / "output.txt").string()));
    passed_ = irqsim::platform::run_in_shell(
        irqsim::platform::with_environment({{"IRQSIM_TRACE_DIR", (directory_ / "traces").string()}}, run));
  }
  ~FixtureRun() { std::filesystem::remove_all(directory_); }
  FixtureRun(const FixtureRun&) = delete;
  FixtureRun& operator=(const FixtureRun&) = delete;

  [[nodiscard]] bool failed() const { return !passed_; }
  [[nodiscard]] std::filesystem::path trace(const std::string& file) const { return directory_ / "traces" / file; }
  [[nodiscard]] bool wrote_traces() const { return std::filesystem::exists(directory_ / "traces"); }
  [[nodiscard]] std::string output() const { return irqsim_test::ProgramOutput(directory_ / "output.txt"); }

 private:
  std::filesystem::path directory_;
  bool passed_ = false;
};

TEST(TraceFailingTests, AFailingTestLeavesItsMachinesTraceInFilesNamedAfterIt) {
  const FixtureRun run("FailsAfterAnInterrupt");
  ASSERT_TRUE(run.failed()) << run.output();
  const std::filesystem::path json = run.trace("OnPurpose.FailsAfterAnInterrupt.json");
  const std::filesystem::path svg = run.trace("OnPurpose.FailsAfterAnInterrupt.svg");
  ASSERT_TRUE(std::filesystem::exists(json)) << run.output();
  ASSERT_TRUE(std::filesystem::exists(svg));
  const nlohmann::json trace = nlohmann::json::parse(irqsim_test::FileBytes(json));
  bool delivered = false;
  for (const nlohmann::json& event : trace.at("traceEvents")) {
    delivered |= event.at("ph") == "X" && event.at("name") == "vector 0x61";
  }
  EXPECT_TRUE(delivered) << "the interrupt the test took is in its trace";
  EXPECT_THAT(irqsim_test::FileBytes(svg), HasSubstr("<svg"));
  EXPECT_THAT(run.output(), HasSubstr(json.string()));
  EXPECT_THAT(run.output(), HasSubstr(svg.string()));
}

TEST(TraceFailingTests, APassingTestLeavesNothing) {
  const FixtureRun run("PassesAfterAnInterrupt");
  ASSERT_FALSE(run.failed()) << run.output();
  EXPECT_FALSE(run.wrote_traces());
  EXPECT_THAT(run.output(), ::testing::Not(HasSubstr("irqsim: trace of")));
}

TEST(TraceFailingTests, EachMachineOfAFailingTestHasItsOwnFiles) {
  const FixtureRun run("FailsAfterTwoMachines");
  ASSERT_TRUE(run.failed()) << run.output();
  EXPECT_TRUE(std::filesystem::exists(run.trace("OnPurpose.FailsAfterTwoMachines.json"))) << run.output();
  EXPECT_TRUE(std::filesystem::exists(run.trace("OnPurpose.FailsAfterTwoMachines.machine2.json")));
  EXPECT_TRUE(std::filesystem::exists(run.trace("OnPurpose.FailsAfterTwoMachines.machine2.svg")));
}

}  // namespace
