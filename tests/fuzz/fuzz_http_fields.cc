// The small parsers of request fields, on arbitrary bytes: request paths (NUL bytes, `../`),
// Range headers, multipart boundaries and the multipart part headers the runtime's proxy
// re-encodes, resource quantities and metadata labels. Properties: an accepted path is
// absolute and NUL-free (`..` needs no check: the agent resolves paths inside the sandbox's own
// root, where `/..` is `/`); an accepted range lies inside the file; a boundary is 1-70 bytes; a re-encoded part header is exactly one header block whose
// parameters cannot be broken out of (no quote or line break inside a value).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_split.h"
#include "runtime/agent/file_ops.h"
#include "runtime/server/multipart_relay.h"
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

void CheckMultipart(const std::vector<std::string>& f) {
  auto boundary = osb::runtime::MultipartBoundary(f[0]);
  if (!boundary.ok()) return;
  OSB_FUZZ_CHECK(!boundary->empty() && boundary->size() <= 70);
  std::string encoded;
  osb::runtime::MultipartRelay relay(*boundary, [&encoded](std::string_view piece) {
    encoded.append(piece);
    return true;
  });
  httplib::MultipartFormData part;
  part.name = f[1];
  part.filename = f[2];
  part.content_type = f[3];
  OSB_FUZZ_CHECK(relay.OnPartHeader(part));
  OSB_FUZZ_CHECK(relay.Finish());
  // One header block: "--boundary\r\n" + header lines + "\r\n\r\n", then the (empty) part's
  // end and the closing delimiter, nothing else.
  const std::string start = "--" + *boundary + "\r\n";
  OSB_FUZZ_CHECK(encoded.compare(0, start.size(), start) == 0);
  const std::size_t end = encoded.find("\r\n\r\n", start.size());
  OSB_FUZZ_CHECK(end != std::string::npos);
  OSB_FUZZ_CHECK(encoded.substr(end + 4) == "\r\n--" + *boundary + "--\r\n");
  const std::string headers = encoded.substr(start.size(), end - start.size());
  std::vector<std::string> lines = absl::StrSplit(headers, "\r\n");
  OSB_FUZZ_CHECK(lines.size() == (part.content_type.empty() ? 1u : 2u));
  for (const std::string& line : lines) {
    OSB_FUZZ_CHECK(line.find('\r') == std::string::npos && line.find('\n') == std::string::npos);
  }
  // The disposition: name="..." and maybe filename="...", each value free of quotes.
  const std::string& disposition = lines[0];
  std::size_t quotes = 0;
  for (char c : disposition) quotes += c == '"';
  OSB_FUZZ_CHECK(quotes == (part.filename.empty() ? 2u : 4u));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int64_t file_size = static_cast<int64_t>(data[0]) << (data[1] % 40);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  CheckPath(text);
  CheckRange(text, file_size);
  CheckMultipart(Fields(text, 4));
  (void)osb::runtime::ParseMilliCpu(text);
  (void)osb::runtime::ParseBytes(text);
  const std::vector<std::string> kv = Fields(text, 2);
  (void)rest::ValidateMetadataKey(kv[0]);
  (void)rest::ValidateMetadataValue(kv[0], kv[1]);
  return 0;
}
