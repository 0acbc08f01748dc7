// The image table: image.uri → a root filesystem directory (runtime_config.h [images]). A
// sandbox's root in its user namespace is an unprivileged host id, so files an image's rootfs has
// owned by host root would be read-only to it, and owned by nobody. Each image is therefore
// prepared once: copied (cp -a, reflinks where the filesystem has them) into
// <state>/images/, with every owner shifted into the sandboxes' id range (host id N becomes
// first_id + N), so root inside owns what root owned in the image. The copy is the overlay's shared
// lower layer of every sandbox of that image; a new copy is made when the source directory's
// modification time changes (older copies stay: running sandboxes may still stand on them).
//
//   ImageTable images(config.images, state_dir + "/images", ids);
//   if (auto rootfs = images.Rootfs("python:3.12")) { ... *rootfs is a StatusOr<dir> ... }
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "runtime/server/agent_launcher.h"

namespace osb::runtime {

class ImageTable {
 public:
  // `cache_dir` must exist and be traversable by the sandboxes' ids.
  ImageTable(std::map<std::string, std::string> images, std::string cache_dir, IdMapping ids)
      : images_(std::move(images)), cache_dir_(std::move(cache_dir)), ids_(ids) {}

  // nullopt when `uri` is not in the table; otherwise its prepared rootfs, made on first use (one
  // preparation at a time per image; other images and callers wait only for their own), or why
  // it could not be made.
  std::optional<absl::StatusOr<std::string>> Rootfs(const std::string& uri);

  // The source directory the table names for `uri`; "" when it names none.
  std::string SourceOf(const std::string& uri) const;

 private:
  absl::StatusOr<std::string> Prepare(const std::string& uri, const std::string& source);

  const std::map<std::string, std::string> images_;
  const std::string cache_dir_;
  const IdMapping ids_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<absl::Mutex>> preparing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::runtime
