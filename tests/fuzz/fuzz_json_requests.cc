// Every JSON request and answer parser of the OpenSandbox protocol (lifecycle, execd commands,
// code, files) on arbitrary JSON: none may crash or throw, and whatever one accepts must survive
// its own serialization (ToJson, then parsed again, accepted again and serialized the same).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nlohmann/json.hpp"
#include "rest/error.h"
#include "rest/execd.h"
#include "rest/execd_code.h"
#include "rest/execd_files.h"
#include "rest/lifecycle.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using Json = nlohmann::json;

// Parses `j` with `parse`; when accepted, the serialized form must parse to the same JSON.
template <typename Parse>
void RoundTrips(const Json& j, Parse parse) {
  auto first = parse(j);
  if (!first.ok()) return;
  const Json written = rest::ToJson(*first);
  auto second = parse(written);
  OSB_FUZZ_CHECK(second.ok());
  OSB_FUZZ_CHECK(rest::ToJson(*second) == written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)rest::ParseErrorResponse(text);
  (void)rest::ParseServerStreamEvent(text);
  const Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  RoundTrips(j, rest::ParseCreateSandboxRequest);
  if (auto r = rest::ParseCreateSandboxRequest(j); r.ok()) {
    (void)rest::ValidateCreateSandboxRequest(*r);
  }
  RoundTrips(j, rest::ParseSandbox);
  RoundTrips(j, rest::ParseListSandboxesResponse);
  RoundTrips(j, rest::ParseEndpoint);
  RoundTrips(j, rest::ParseRunCommandRequest);
  RoundTrips(j, rest::ParseCreateSessionRequest);
  RoundTrips(j, rest::ParseSessionRunRequest);
  RoundTrips(j, rest::ParseMetrics);
  RoundTrips(j, rest::ParseRunCodeRequest);
  RoundTrips(j, rest::ParseCodeContextRequest);
  RoundTrips(j, rest::ParseCodeContext);
  RoundTrips(j, rest::ParseFileInfo);
  RoundTrips(j, rest::ParseFileMetadata);
  RoundTrips(j, rest::ParseCommandStatus);
  (void)rest::ParseMoveRequest(j);
  (void)rest::ParsePermissionMap(j);
  (void)rest::ParseReplaceRequest(j);
  (void)rest::ParseServerStreamEvent(j);
  return 0;
}
