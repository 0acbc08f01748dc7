// The SSE decoder (every line ending, split anywhere) and the event codec on arbitrary bytes:
// nothing may crash; a chunked feed must decode exactly as a whole one; and every event the
// parser accepts must be written back (SerializeEvent) as text that parses to the same event.
// The fast reader of flat events (ScanFlatEvent) must read whatever it takes exactly as the
// full parse of a DOM does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "rest/event_scan.h"
#include "rest/execd.h"
#include "rest/sse.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct Decoded {
  std::vector<std::string> events;
  bool ok = true;
};

// Feeds `text` in pieces of `piece` bytes (0: whole).
Decoded Decode(std::string_view text, std::size_t piece) {
  Decoded out;
  rest::SseDecoder decoder;
  auto sink = [&out](std::string_view event) { out.events.emplace_back(event); };
  if (piece == 0) piece = text.size() + 1;
  for (std::size_t at = 0; at < text.size() && out.ok; at += piece) {
    out.ok = decoder.Feed(text.substr(at, piece), sink).ok();
  }
  if (out.ok) out.ok = decoder.Finish(sink).ok();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 16;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Decoded whole = Decode(text, 0);
  const Decoded chunked = Decode(text, piece);
  OSB_FUZZ_CHECK(whole.ok == chunked.ok);
  if (whole.ok) OSB_FUZZ_CHECK(whole.events == chunked.events);
  for (const std::string& event : whole.events) {
    if (auto fast = rest::internal::ScanFlatEvent(event); fast.has_value()) {
      const auto dom = nlohmann::json::parse(event, nullptr, /*allow_exceptions=*/false);
      OSB_FUZZ_CHECK(!dom.is_discarded());
      auto full = rest::ParseServerStreamEvent(dom);
      OSB_FUZZ_CHECK(full.ok());
      OSB_FUZZ_CHECK(full->type == fast->type && full->text == fast->text &&
                     full->timestamp_ms == fast->timestamp_ms &&
                     full->execution_count == fast->execution_count &&
                     full->execution_time_ms == fast->execution_time_ms &&
                     !full->results.has_value() && !full->error.has_value());
    }
    auto parsed = rest::ParseServerStreamEvent(std::string_view(event));
    if (!parsed.ok()) continue;
    const std::string written = rest::SerializeEvent(*parsed);
    auto again = rest::ParseServerStreamEvent(std::string_view(written));
    OSB_FUZZ_CHECK(again.ok());
    OSB_FUZZ_CHECK(rest::SerializeEvent(*again) == written);
  }
  return 0;
}
