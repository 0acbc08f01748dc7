#include "daemon/upstream/origin.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace osb::daemon {

absl::Status ParseDomain(const std::string& domain, std::string* protocol, std::string* authority) {
  absl::string_view d = absl::StripAsciiWhitespace(domain);
  for (absl::string_view scheme : {"http", "https"}) {
    if (absl::ConsumePrefix(&d, absl::StrCat(scheme, "://"))) *protocol = std::string(scheme);
  }
  while (absl::ConsumeSuffix(&d, "/")) {
  }
  absl::ConsumeSuffix(&d, "/v1");
  if (d.empty() || absl::StrContains(d, "/") || absl::StrContains(d, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed domain '", domain, "': expected host:port or http(s)://host:port"));
  }
  *authority = std::string(d);
  return absl::OkStatus();
}

HeaderList WithConnectionHeaders(const HeaderList& connection, HeaderList endpoint) {
  HeaderList out;
  out.reserve(connection.size() + endpoint.size());
  for (const auto& header : connection) {
    const bool overridden =
        std::any_of(endpoint.begin(), endpoint.end(), [&header](const auto& theirs) {
          return absl::EqualsIgnoreCase(theirs.first, header.first);
        });
    if (!overridden) out.push_back(header);
  }
  for (auto& header : endpoint) out.push_back(std::move(header));
  return out;
}

}  // namespace osb::daemon
