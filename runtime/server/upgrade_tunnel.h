// A connection the proxy hands over to an upgraded protocol (a WebSocket): once the sandbox's
// server has answered 101 Switching Protocols, the runtime stops speaking HTTP on both connections
// and copies bytes each way, unread, until both sides have closed.
//
//   ServedConnection* client = CurrentConnection();   // runtime/common/http_server.h
//   std::string early = client->TakeOver();
//   Tunnel(client->fd(), upstream.get(), head_and_early_bytes, early);
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace osb::runtime {

// Sends `to_client_first` to `client` and `to_upstream_first` to `upstream`, then copies bytes
// both ways until each side has ended its half (a half close is passed on) or either connection
// fails. `client` must be blocking with no timeouts (ServedConnection::TakeOver leaves it so): an
// upgraded connection may idle for hours. Returns when both directions are done; `client` is then
// shut down for the HTTP server to close, `upstream` is left to its owner.
void Tunnel(int client, int upstream, absl::string_view to_client_first,
            absl::string_view to_upstream_first);

}  // namespace osb::runtime
