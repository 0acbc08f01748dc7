// The small parsers of request fields, on arbitrary bytes: request paths (NUL bytes, `../`),
// Range headers, resource quantities and metadata labels. Properties: an accepted path is
// absolute and NUL-free (`..` needs no check: the agent resolves paths inside the sandbox's own
// root, where `/..` is `/`); an accepted range lies inside the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_split.h"
#include "runtime/agent/file_ops.h"
#include "runtime/server/resource_limits.h"
#include "rest/metadata_labels.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Splits the input into `n` fields at NUL-free separators (byte 0xFF), the rest empty.
std::vector<std::string> Fields(std::string_view text, std::size_t n) {
  std::vector<std::string> out = absl::StrSplit(
      absl::string_view(text.data(), text.size()), absl::MaxSplits('\xff', n - 1));
  out.resize(n);
  return out;
}

void CheckPath(std::string_view raw) {
  auto path = osb::agent::RequestPath(raw);
  if (!path.ok()) return;
  OSB_FUZZ_CHECK(!path->empty() && path->front() == '/');
  OSB_FUZZ_CHECK(path->find('\0') == std::string::npos);
}

void CheckRange(std::string_view header, int64_t size) {
  auto range = osb::agent::ParseByteRange(header, size);
  if (!range.ok() || !range->has_value()) return;
  OSB_FUZZ_CHECK((*range)->first >= 0);
  OSB_FUZZ_CHECK((*range)->first <= (*range)->last);
  OSB_FUZZ_CHECK((*range)->last < size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int64_t file_size = static_cast<int64_t>(data[0]) << (data[1] % 40);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  CheckPath(text);
  CheckRange(text, file_size);
  (void)osb::runtime::ParseMilliCpu(text);
  (void)osb::runtime::ParseBytes(text);
  const std::vector<std::string> kv = Fields(text, 2);
  (void)rest::ValidateMetadataKey(kv[0]);
  (void)rest::ValidateMetadataValue(kv[0], kv[1]);
  return 0;
}
