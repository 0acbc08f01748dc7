#include "rest/shell_quote.h"

#include <gtest/gtest.h>

namespace rest {
namespace {

TEST(ShellQuote, SafeWordsStayAsTheyAre) {
  EXPECT_EQ(ShellQuote("ls"), "ls");
  EXPECT_EQ(ShellQuote("/usr/bin/x-y_z.1"), "/usr/bin/x-y_z.1");
}

TEST(ShellQuote, EverythingElseIsSingleQuoted) {
  EXPECT_EQ(ShellQuote("a b"), "'a b'");
  EXPECT_EQ(ShellQuote("c$d"), "'c$d'");
  EXPECT_EQ(ShellQuote("it's"), "'it'\\''s'");
  EXPECT_EQ(ShellQuote(""), "''");
}

TEST(ShellJoin, QuotesEachWord) {
  EXPECT_EQ(ShellJoin({"echo", "a b", "c$d", ""}), "echo 'a b' 'c$d' ''");
  EXPECT_EQ(ShellJoin({}), "");
}

}  // namespace
}  // namespace rest
