// LoadOrCreateOwnerId: an osbd keeps its owner id across restarts, and refuses a file that does
// not hold one rather than taking over (or disowning) sandboxes under a made-up id.
#include "daemon/owner_id.h"

#include <gtest/gtest.h>
#include <sys/stat.h>


#include "rest/sys/file_util.h"
#include "tests/temp_dir.h"

namespace osb::daemon {
namespace {

class OwnerIdTest : public ::testing::Test {
 protected:
  test::TempDir temp_{"osb-owner"};
  const std::string& dir_ = temp_.path();
};

TEST_F(OwnerIdTest, MadeOnceThenKept) {
  auto first = LoadOrCreateOwnerId(dir_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size(), 32u);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/owner-id").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateOwnerId(dir_);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *first) << "a restarted osbd is the same owner";
  EXPECT_NE(NewOwnerId(), *first);
}

TEST_F(OwnerIdTest, AFileWithoutAnIdIsRefusedAndLeftAsItIs) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/owner-id", "not an id\n", 0600).ok());
  auto loaded = LoadOrCreateOwnerId(dir_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("owner-id"), std::string_view::npos)
      << loaded.status();
  EXPECT_EQ(*ReadFile(dir_ + "/owner-id"), "not an id\n");
}

TEST_F(OwnerIdTest, AStateDirThatCannotBeWrittenIsAnError) {
  EXPECT_FALSE(LoadOrCreateOwnerId(dir_ + "/missing/deeper").ok());
}

}  // namespace
}  // namespace osb::daemon
