// BearerTokenCheck: the gate of osbd's optional TCP listener. Every call must carry the metadata
// "authorization: Bearer <token>" with the configured token; others fail UNAUTHENTICATED before
// any service sees them. Compared in constant time.
#pragma once

#include <grpcpp/security/auth_metadata_processor.h>

#include <string>

namespace osb::daemon {

class BearerTokenCheck : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerTokenCheck(std::string token) : token_(std::move(token)) {}
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed, OutputMetadata* response) override;

 private:
  const std::string token_;
};

}  // namespace osb::daemon
