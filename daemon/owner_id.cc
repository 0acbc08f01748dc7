#include "daemon/owner_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rest/ids.h"
#include "rest/sys/file_util.h"

namespace osb::daemon {
namespace {

constexpr int kIdBytes = 16;

bool IsOwnerId(std::string_view text) {
  if (text.size() != 2 * kIdBytes) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

}  // namespace

std::string NewOwnerId() { return rest::RandomHex(kIdBytes); }

absl::StatusOr<std::string> LoadOrCreateOwnerId(const std::string& state_dir) {
  const std::string path = state_dir + "/owner-id";
  auto kept = osb::ReadFile(path);
  if (kept.ok()) {
    const std::string id(absl::StripAsciiWhitespace(*kept));
    if (!IsOwnerId(id)) {
      return absl::DataLossError(absl::StrCat(path, " does not hold an owner id (", 2 * kIdBytes,
                                              " hex digits); remove it to start afresh"));
    }
    return id;
  }
  if (!absl::IsNotFound(kept.status())) return kept.status();
  const std::string id = NewOwnerId();
  if (auto s = osb::WriteFileAtomic(path, id + "\n", 0600); !s.ok()) return s;
  return id;
}

}  // namespace osb::daemon
