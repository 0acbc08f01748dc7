#include "rest/metadata_labels.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rest/error.h"

namespace rest {
namespace {

constexpr std::size_t kMaxName = 63;
constexpr std::size_t kMaxPrefix = 253;

// A label name or value: ≤ 63 of [A-Za-z0-9-_.], alphanumeric at both ends. Empty is not a name.
bool IsLabelName(std::string_view s) {
  if (s.empty() || s.size() > kMaxName) return false;
  if (!absl::ascii_isalnum(static_cast<unsigned char>(s.front())) ||
      !absl::ascii_isalnum(static_cast<unsigned char>(s.back()))) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

// A DNS subdomain: dot-separated labels of [a-z0-9-], alphanumeric at both ends, ≤ 253 in all.
bool IsDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > kMaxPrefix) return false;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > kMaxName || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
            absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return false;
      }
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

absl::Status Invalid(std::string message) {
  return MakeError(absl::StatusCode::kInvalidArgument, kInvalidMetadataLabel, message);
}

}  // namespace

absl::Status ValidateMetadataKey(std::string_view key) {
  const std::string quoted = absl::StrCat("metadata key '", std::string(key), "'");
  if (key.substr(0, kReservedMetadataPrefix.size()) == kReservedMetadataPrefix) {
    return Invalid(absl::StrCat(quoted, ": the prefix ", std::string(kReservedMetadataPrefix),
                                " is reserved"));
  }
  std::string_view name = key;
  if (std::size_t slash = key.find('/'); slash != std::string_view::npos) {
    if (!IsDnsSubdomain(key.substr(0, slash))) {
      return Invalid(absl::StrCat(quoted,
                                  ": the prefix must be a DNS subdomain (lowercase "
                                  "letters, digits, '-' and '.', at most 253)"));
    }
    name = key.substr(slash + 1);
  }
  if (!IsLabelName(name)) {
    return Invalid(absl::StrCat(quoted,
                                ": the name must be 1 to 63 letters, digits, '-', '_' or "
                                "'.', starting and ending with a letter or digit"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadataValue(std::string_view key, std::string_view value) {
  if (value.empty() || IsLabelName(value)) return absl::OkStatus();
  return Invalid(absl::StrCat("metadata value of '", std::string(key),
                              "': at most 63 letters, digits, '-', '_' or '.', starting and "
                              "ending with a letter or digit"));
}

absl::Status ValidateMetadata(const StringMap& metadata) {
  for (const auto& [key, value] : metadata) {
    if (auto s = ValidateMetadataKey(key); !s.ok()) return s;
    if (auto s = ValidateMetadataValue(key, value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace rest
