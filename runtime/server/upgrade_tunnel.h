// A connection the proxy hands over to an upgraded protocol (a WebSocket): once the sandbox's
// server has answered 101 Switching Protocols, the runtime stops speaking HTTP on both connections
// and copies bytes each way, unread, until both sides have closed.
//
//   auto client = ClientSocketOf(req.remote_addr, req.remote_port, req.local_port);
//   Tunnel(*client, upstream.get(), head_and_early_bytes);
//
// cpp-httplib 0.11 does not give a handler its connection, so ClientSocketOf finds it among the
// process's descriptors by its address pair; the handler keeps running (and the library keeps
// the descriptor) for as long as the tunnel lasts, and closes it afterwards.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace osb::runtime {

// The descriptor of this process's TCP connection from `remote_addr`:`remote_port` to local port
// `local_port`; borrowed, never to be closed by the caller. NotFound when there is none.
absl::StatusOr<int> ClientSocketOf(const std::string& remote_addr, int remote_port,
                                   int local_port);

// Sends `to_client_first` to `client`, then copies bytes both ways until each side has ended
// its half (a half close is passed on) or either connection fails. Clears the timeouts and
// non-blocking mode the HTTP server set on `client`: an upgraded connection may idle for hours.
// Returns when both directions are done; `client` is then shut down for the HTTP server to close,
// `upstream` is left to its owner.
void Tunnel(int client, int upstream, absl::string_view to_client_first);

}  // namespace osb::runtime
