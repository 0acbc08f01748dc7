// TempDir: a fresh directory under /tmp for one test, removed with all it holds when it goes.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "rest/sys/file_util.h"

namespace osb::test {

class TempDir {
 public:
  // /tmp/<prefix>-XXXXXX, mode 0711 (sandboxes' unprivileged ids may traverse it); path() is
  // empty when it cannot be made.
  explicit TempDir(const std::string& prefix = "osbt") {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return;
    path_ = pattern;
    ::chmod(path_.c_str(), 0711);
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveTree(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace osb::test
