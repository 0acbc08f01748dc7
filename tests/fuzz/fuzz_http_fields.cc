// The small parsers of request fields, on arbitrary bytes: request paths (NUL bytes, `../`),
// Range headers, resource quantities, metadata labels, and the DNS messages a sandbox sends to the
// runtime's DNS filter. Properties: an accepted path is absolute and NUL-free (`..` needs no
// check: the agent resolves paths inside the sandbox's own root, where `/..` is `/`); an accepted
// range lies inside the file; an accepted DNS query's replies read back as answers to it, with
// exactly the addresses put in; a multipart body, and a client's WebSocket frames, read the same
// (parts and content, messages, or the error) whole and cut in two anywhere.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_split.h"
#include "runtime/agent/file_ops.h"
#include "runtime/agent/multipart_reader.h"
#include "runtime/common/websocket.h"
#include "runtime/server/dns_message.h"
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

void CheckDns(std::string_view packet) {
  namespace dns = osb::runtime::dns;
  (void)dns::FormatError(packet);
  if (packet.size() >= 2) {
    const auto id = static_cast<uint16_t>((static_cast<uint8_t>(packet[0]) << 8) |
                                          static_cast<uint8_t>(packet[1]));
    (void)dns::AnswerAddresses(packet, id);
  }
  auto query = dns::ParseQuery(packet);
  if (!query.ok()) return;
  OSB_FUZZ_CHECK(query->name.size() <= 253);
  auto none = dns::AnswerAddresses(dns::Reply(*query, dns::Rcode::kNxDomain), query->id);
  OSB_FUZZ_CHECK(none.ok() && none->empty());
  in_addr a{};
  a.s_addr = 0x0100007f;
  auto some = dns::AnswerAddresses(dns::ReplyWithAddresses(*query, {a, a}, 60), query->id);
  OSB_FUZZ_CHECK(some.ok() && some->size() == 2 && (*some)[1].s_addr == a.s_addr);
}

// What a multipart reader with boundary "B" made of `body` fed in two pieces, cut at `cut`.
std::string ReadMultipart(std::string_view body, std::size_t cut) {
  std::string seen;
  osb::agent::MultipartReader reader(
      "B",
      [&](const osb::agent::MultipartPart& p) {
        seen += "\n[" + p.name + "|" + p.filename + "|" + p.content_type + "]\n";
        return true;
      },
      [&](std::string_view data) {
        seen.append(data);
        return true;
      });
  const bool fed = reader.Feed(body.substr(0, cut)) && reader.Feed(body.substr(cut));
  const absl::Status status = fed ? reader.Finish() : reader.status();
  return seen + (status.ok() ? "\nOK" : "\nERROR " + std::string(status.message()));
}

void CheckMultipart(std::string_view body, std::size_t cut) {
  (void)osb::agent::MultipartBoundary(body);
  OSB_FUZZ_CHECK(ReadMultipart(body, body.size()) == ReadMultipart(body, cut % (body.size() + 1)));
}

// The messages a WebSocket reader of a client's frames made of `bytes` fed in two pieces.
std::string ReadWebSocket(std::string_view bytes, std::size_t cut) {
  osb::websocket::MessageReader reader(/*from_client=*/true, /*max_message=*/4096);
  std::string seen;
  for (std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
    reader.Append(piece);
    for (;;) {
      auto message = reader.Next();
      if (!message.ok()) return seen + "\nERROR " + std::string(message.status().message());
      if (!message->has_value()) break;
      seen += "\n[" + std::to_string(static_cast<int>((*message)->opcode)) + "]";
      seen += (*message)->payload;
    }
  }
  return seen;
}

void CheckWebSocket(std::string_view bytes, std::size_t cut) {
  OSB_FUZZ_CHECK(ReadWebSocket(bytes, bytes.size()) ==
                 ReadWebSocket(bytes, cut % (bytes.size() + 1)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const int64_t file_size = static_cast<int64_t>(data[0]) << (data[1] % 40);
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  CheckPath(text);
  CheckRange(text, file_size);
  CheckDns(text);
  CheckMultipart(text, static_cast<std::size_t>(data[0]) * 7 + data[1]);
  CheckWebSocket(text, static_cast<std::size_t>(data[1]) * 3 + data[0]);
  (void)osb::runtime::ParseMilliCpu(text);
  (void)osb::runtime::ParseBytes(text);
  const std::vector<std::string> kv = Fields(text, 2);
  (void)rest::ValidateMetadataKey(kv[0]);
  (void)rest::ValidateMetadataValue(kv[0], kv[1]);
  return 0;
}
