#include "runtime/server/image_table.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <string>

#include "rest/sys/file_util.h"

namespace osb::runtime {
namespace {

class ImageTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "shifting owners needs root";
    char tmpl[] = "/tmp/osb-images-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    source_ = dir_ + "/rootfs";
    ASSERT_TRUE(MakeDirs(source_ + "/etc", 0755).ok());
    ASSERT_TRUE(MakeDirs(dir_ + "/cache", 0711).ok());
    ASSERT_TRUE(WriteFileAtomic(source_ + "/etc/root-owned", "r", 0644).ok());
    ASSERT_TRUE(WriteFileAtomic(source_ + "/etc/user-owned", "u", 0644).ok());
    ASSERT_EQ(::chown((source_ + "/etc/user-owned").c_str(), 42, 43), 0);
    ASSERT_TRUE(WriteFileAtomic(source_ + "/setuid", "s", 0755).ok());
    ASSERT_EQ(::chmod((source_ + "/setuid").c_str(), 04755), 0);
    ASSERT_EQ(::symlink("etc/root-owned", (source_ + "/link").c_str()), 0);
  }
  void TearDown() override { (void)RemoveTree(dir_); }

  std::string dir_, source_;
};

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

TEST_F(ImageTableTest, PreparesAShiftedCopyOnceAndAgainWhenTheSourceChanges) {
  ImageTable table({{"tiny:1", source_}}, dir_ + "/cache", IdMapping{5000, 6000, 65536});
  EXPECT_FALSE(table.Rootfs("other").has_value());
  auto rootfs = table.Rootfs("tiny:1");
  ASSERT_TRUE(rootfs.has_value());
  ASSERT_TRUE(rootfs->ok()) << rootfs->status();
  const std::string dir = **rootfs;
  EXPECT_EQ(Lstat(dir + "/etc/root-owned").st_uid, 5000u);
  EXPECT_EQ(Lstat(dir + "/etc/root-owned").st_gid, 6000u);
  EXPECT_EQ(Lstat(dir + "/etc/user-owned").st_uid, 5042u);
  EXPECT_EQ(Lstat(dir + "/etc/user-owned").st_gid, 6043u);
  EXPECT_EQ(Lstat(dir + "/link").st_uid, 5000u);
  EXPECT_EQ(Lstat(dir + "/setuid").st_mode & 07777, 04755u);
  EXPECT_EQ(Lstat(source_ + "/etc/root-owned").st_uid, 0u) << "the source is left alone";

  auto again = table.Rootfs("tiny:1");
  ASSERT_TRUE(again->ok());
  EXPECT_EQ(**again, dir);

  struct timeval later[2] = {{2000000000, 0}, {2000000000, 0}};
  ASSERT_EQ(::utimes(source_.c_str(), later), 0);
  auto changed = table.Rootfs("tiny:1");
  ASSERT_TRUE(changed->ok());
  EXPECT_NE(**changed, dir);
  EXPECT_EQ(Lstat(dir + "/etc/root-owned").st_uid, 5000u) << "the old copy stays for its users";
}

TEST_F(ImageTableTest, AVanishedSourceIsAnError) {
  ImageTable table({{"gone", dir_ + "/nowhere"}}, dir_ + "/cache", IdMapping{5000, 5000, 65536});
  auto rootfs = table.Rootfs("gone");
  ASSERT_TRUE(rootfs.has_value());
  EXPECT_FALSE(rootfs->ok());
}

}  // namespace
}  // namespace osb::runtime
