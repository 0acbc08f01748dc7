#include "client/osbctl/shell_quote.h"

#include <gtest/gtest.h>

namespace osb::cli {
namespace {

TEST(CommandLine, OneArgumentIsAShellLine) {
  EXPECT_EQ(CommandLine({"ls | wc -l"}), "ls | wc -l");
}

TEST(CommandLine, SeveralArgumentsAreQuotedWords) {
  EXPECT_EQ(CommandLine({"echo", "a b", "c$d"}), "echo 'a b' 'c$d'");
}

}  // namespace
}  // namespace osb::cli
