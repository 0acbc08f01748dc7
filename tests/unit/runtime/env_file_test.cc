// The sandbox's env file as the official SDKs' commands.set_env writes it.
#include "runtime/agent/env_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace osb::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(EnvFileTest, ReadsTheFormsSetEnvWrites) {
  EXPECT_THAT(ParseEnvFile("A='plain value'\n"
                           "B=\"it's \\\"quoted\\\"\\n\\tend\\\\\"\n"
                           "C=bare words $HOME\n"
                           "export D='exported'\n"
                           "E=''\n"),
              ElementsAre(Pair("A", "plain value"), Pair("B", "it's \"quoted\"\n\tend\\"),
                          Pair("C", "bare words $HOME"), Pair("D", "exported"), Pair("E", "")));
}

TEST(EnvFileTest, SkipsCommentsBlanksAndLinesThatAreNoEntry) {
  EXPECT_THAT(ParseEnvFile("# a comment\n\n   \nno equals sign\n1BAD=x\nBAD-KEY=x\n=x\n"
                           "OPEN='not closed\nHALF=\"not closed\nTWO='a'b'\nGOOD=yes\n"),
              ElementsAre(Pair("GOOD", "yes")));
  EXPECT_THAT(ParseEnvFile(""), IsEmpty());
}

TEST(EnvFileTest, LaterEntriesComeLater) {
  EXPECT_THAT(ParseEnvFile("K='one'\nK='two'\n"), ElementsAre(Pair("K", "one"), Pair("K", "two")));
}

}  // namespace
}  // namespace osb::agent
