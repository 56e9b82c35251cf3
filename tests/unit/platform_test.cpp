// The platform layer (src/platform): what the host does differently on Linux and Windows, checked
// the same way on both. The suite runs these under Wine as well as natively.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "driver_test_support.hpp"
#include "file_contents.hpp"
#include "platform/environment.hpp"
#include "platform/process_usage.hpp"
#include "platform/shell.hpp"

namespace {

using irqsim::platform::shell_word;

// A scratch directory whose name has a space, as "Program Files" and many home folders do.
class ScratchDirectory {
 public:
  ScratchDirectory()
      : path_(std::filesystem::temp_directory_path() /
              fmt::format("irqsim platform {}", std::chrono::steady_clock::now().time_since_epoch().count())) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDirectory() { std::filesystem::remove_all(path_); }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(Environment, ASetVariableIsSeenAndAnUnsetOneIsGone) {
  irqsim::platform::set_environment_variable("IRQSIM_PLATFORM_TEST", "on");
  ASSERT_NE(std::getenv("IRQSIM_PLATFORM_TEST"), nullptr);
  EXPECT_STREQ(std::getenv("IRQSIM_PLATFORM_TEST"), "on");
  irqsim::platform::set_environment_variable("IRQSIM_PLATFORM_TEST", std::nullopt);
  EXPECT_EQ(std::getenv("IRQSIM_PLATFORM_TEST"), nullptr);
}

TEST(Shell, PlainWordsStayAsTheyAreAndOthersAreQuoted) {
  EXPECT_EQ(shell_word("driver_test"), "driver_test");
  EXPECT_EQ(shell_word("--gtest_filter=Driver.Isr"), "--gtest_filter=Driver.Isr");
#if defined(_WIN32)
  EXPECT_EQ(shell_word(R"(C:\tests\driver_test.exe)"), R"(C:\tests\driver_test.exe)");
  EXPECT_EQ(shell_word(R"(C:\Program Files\driver_test.exe)"), R"("C:\Program Files\driver_test.exe")");
  EXPECT_EQ(shell_word(""), R"("")");
#else
  EXPECT_EQ(shell_word("/home/dev/my tests/driver_test"), "'/home/dev/my tests/driver_test'");
  EXPECT_EQ(shell_word("it's"), R"('it'\''s')") << "sh has no escape inside '...': close, escape, reopen";
  EXPECT_EQ(shell_word(""), "''");
#endif
}

// What the shell makes of a quoted path and of variables set for one command: a child shell
// prints the variable from its environment into a file whose name needs quoting. (A child,
// because the shell running the line expands variables before the line sets them.)
TEST(Shell, ACommandRunsWithItsVariablesAndWritesToAQuotedPath) {
  const ScratchDirectory scratch;
  const std::filesystem::path output = scratch.path() / "echo output.txt";
#if defined(_WIN32)
  const std::string echo = "cmd /c echo %IRQSIM_PLATFORM_WORD%";
#else
  const std::string echo = "sh -c 'echo \"$IRQSIM_PLATFORM_WORD\"'";
#endif
  const std::string command = irqsim::platform::with_environment(
      {{"IRQSIM_PLATFORM_WORD", "seventeen"}}, fmt::format("{} > {}", echo, shell_word(output.string())));
  ASSERT_TRUE(irqsim::platform::run_in_shell(command)) << command;
  // cmd.exe's echo keeps the space before `>`; what matters is the word.
  std::string printed = irqsim_test::ProgramOutput(output);
  printed.erase(printed.find_last_not_of(" \n") + 1);
  EXPECT_EQ(printed, "seventeen") << command;
  EXPECT_EQ(std::getenv("IRQSIM_PLATFORM_WORD"), nullptr) << "the variable was the command's only";
}

TEST(Shell, AFailingCommandIsReportedAsFailed) {
  EXPECT_FALSE(irqsim::platform::run_in_shell("exit 3"));
}

TEST(ProcessUsage, CpuTimeGrowsWhileTheProcessComputesAndMemoryIsReported) {
  // Computes until the reading moves (it advances in clock ticks on Windows); the deadline only
  // keeps a broken reading from hanging the test.
  const auto before = irqsim::platform::process_cpu_time();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (irqsim::platform::process_cpu_time() == before && std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_GT(irqsim::platform::process_cpu_time(), before);
  // The current size first: the process may grow between the two readings, and the peak then
  // read is at least every size the process had before it.
  const std::uint64_t resident = irqsim::platform::resident_bytes();
  EXPECT_GT(resident, 0u);
  EXPECT_GE(irqsim::platform::peak_resident_bytes(), resident);
}

TEST(Latch, WaitReturnsOnlyAfterEveryThreadCountedDown) {
  irqsim_test::Latch latch(2);
  std::atomic<int> arrived{0};
  std::thread first([&] {
    ++arrived;
    latch.count_down();
  });
  std::thread second([&] {
    ++arrived;
    latch.arrive_and_wait();
  });
  latch.wait();
  EXPECT_EQ(arrived.load(), 2);
  first.join();
  second.join();
}

}  // namespace
