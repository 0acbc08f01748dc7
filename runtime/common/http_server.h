// The cpp-httplib server of osb-runtime and osb-agent, with its connections read and written by
// this project's own stream instead of the library's:
//
// - A handler can take its connection over (CurrentConnection): a WebSocket upgrade then speaks
//   its own protocol on the socket, and the bytes the server had read past the request are handed
//   on, not lost. cpp-httplib 0.11 gives a handler neither.
// - Reads go through one 128 KiB buffer kept for the connection's life: a body arrives in a few
//   large reads, where the library's stream polled and read every 4 KiB piece; pipelined requests
//   are kept between requests. Timeouts are the socket's own (SO_RCVTIMEO, SO_SNDTIMEO).
//
// Everything else (routing, parsing, keep-alive counts and timeouts, task queues) is the library's.
#pragma once

#include <httplib.h>

#include <string>

namespace osb::runtime {

// The connection a request came on, as its handler sees it.
class ServedConnection {
 public:
  virtual ~ServedConnection() = default;

  // The connected socket. Stays open until the handler returns.
  virtual int fd() const = 0;

  // Takes the connection away from HTTP: returns the bytes already read past the request, and
  // from now on the server neither reads nor writes it (its response is dropped) and closes it
  // once the handler returns. The socket is left blocking with no timeouts.
  virtual std::string TakeOver() = 0;
};

class HttpServer : public httplib::Server {
 private:
  bool process_and_close_socket(socket_t sock) override;
};

// The connection whose request the calling thread is handling; nullptr outside a handler of an
// HttpServer.
ServedConnection* CurrentConnection();

}  // namespace osb::runtime
