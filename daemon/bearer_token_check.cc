#include "daemon/bearer_token_check.h"

namespace osb::daemon {
namespace {

// Equal strings, in a time that depends only on their lengths.
bool SameSecret(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= given[i] ^ expected[i];
  return diff == 0;
}

}  // namespace

grpc::Status BearerTokenCheck::Process(const InputMetadata& metadata, grpc::AuthContext*,
                                       OutputMetadata* consumed, OutputMetadata*) {
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "osbd's TCP listener needs the metadata 'authorization: Bearer <token>'");
  }
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kScheme = "Bearer ";
  if (value.substr(0, kScheme.size()) != kScheme ||
      !SameSecret(value.substr(kScheme.size()), token_)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong token for osbd's TCP listener");
  }
  // Not passed on: no service needs the secret.
  consumed->emplace("authorization", std::string(value));
  return grpc::Status::OK;
}

}  // namespace osb::daemon
