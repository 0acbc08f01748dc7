// The reactor of a unary RPC whose upstream requests end with the call: it finishes like the
// default one and, when the client cancels the call, cancels the upstream requests made for it
// (their Origin or ExecdEndpoint carries cancel(), given to DaemonContext::Resolve). RPCs that
// make no upstream request, or only ones that must run to their end, keep the default reactor.
//
//   auto* reactor = new UnaryCall;  // deletes itself when the call is done
//   auto origin = context.Resolve(request->connection(), ctx, reactor->cancel());
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "daemon/upstream/cancel_token.h"

namespace osb::daemon {

class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  const std::shared_ptr<CancelToken>& cancel() const { return cancel_; }

  void OnCancel() override { cancel_->Cancel(); }
  void OnDone() override { delete this; }

 private:
  const std::shared_ptr<CancelToken> cancel_ = std::make_shared<CancelToken>();
};

}  // namespace osb::daemon
