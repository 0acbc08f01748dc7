// The cpp-httplib server of osb-runtime and osb-agent, with its connections read and written by
// this project's own stream instead of the library's:
//
// - A handler can take its connection over (CurrentConnection): a WebSocket upgrade then speaks
//   its own protocol on the socket, and the bytes the server had read past the request are handed
//   on, not lost. cpp-httplib 0.11 gives a handler neither.
// - Reads go through one 128 KiB buffer kept for the connection's life: a body arrives in a few
//   large reads, where the library's stream polled and read every 4 KiB piece; pipelined requests
//   are kept between requests. Timeouts are the socket's own (SO_RCVTIMEO, SO_SNDTIMEO).
// - A request's head is read whole before the library parses it, and refused when it is too
//   large (414 for a request line over kMaxRequestLine, 431 for a header line over
//   kMaxHeaderLine or a head over kMaxRequestHead): cpp-httplib 0.11 buffers a request line of
//   any length and headers without end, and after refusing a long header it parsed the rest of
//   the head as the next request. A pre-routing handler may cap a body (LimitJsonBody).
// - A connection whose request was not read whole (refused, or answered before its body) is
//   closed after the answer, lingering briefly so that the client reads the answer instead of a
//   reset.
//
// Everything else (routing, parsing, keep-alive counts and timeouts, task queues) is the library's.
#pragma once

#include <httplib.h>

#include <string>
#include <string_view>

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
 public:
  static constexpr std::size_t kMaxRequestLine = 8192;
  static constexpr std::size_t kMaxHeaderLine = 8192;
  static constexpr std::size_t kMaxRequestHead = 64 * 1024;

  HttpServer();

  // httplib's bind_to_port and bind_to_any_port, with SO_REUSEADDR instead of the library's
  // SO_REUSEPORT (a port in use is refused, not shared), then the listen backlog raised from
  // the library's 5 to SOMAXCONN: with 5, a burst of new connections (64 clients starting at
  // once) overflowed it, and the kernel's SYN retries made some connects take 1 to 3 s.
  bool Bind(const std::string& host, int port);
  int BindToAnyPort(const std::string& host);  // the port, or -1

  // Also called, with an empty Request, for a head refused before parsing (408, 414 or 431).
  HttpServer& set_error_handler(Handler handler);

  // httplib's routes, each marking its request as routed before it runs (AnswerUnhandledError
  // leaves a routed request's answer as its route made it). Routes are added through an
  // HttpServer, never its httplib::Server base.
  HttpServer& Get(const std::string& pattern, Handler handler);
  HttpServer& Post(const std::string& pattern, Handler handler);
  HttpServer& Post(const std::string& pattern, HandlerWithContentReader handler);
  HttpServer& Put(const std::string& pattern, Handler handler);
  HttpServer& Put(const std::string& pattern, HandlerWithContentReader handler);
  HttpServer& Patch(const std::string& pattern, Handler handler);
  HttpServer& Patch(const std::string& pattern, HandlerWithContentReader handler);
  HttpServer& Delete(const std::string& pattern, Handler handler);
  HttpServer& Delete(const std::string& pattern, HandlerWithContentReader handler);
  HttpServer& Options(const std::string& pattern, Handler handler);

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool RaiseBacklog();

  Handler error_handler_;
  socket_t listener_ = INVALID_SOCKET;  // the socket bind_to_port made, seen by its options hook
};

// For a pre-routing handler: caps the request's body at `bytes` (its reads fail past them, which
// cpp-httplib answers 400 and AnswerUnhandledError words as 413) and refuses, with 415 and
// `code`, a compressed body (cpp-httplib would inflate it whole, past any cap on the bytes sent).
// Returns Handled when it answered.
httplib::Server::HandlerResponse LimitJsonBody(const httplib::Request& req, httplib::Response& res,
                                               std::size_t bytes, std::string_view code);

// For an HttpServer's error handler: answers, with a `{"code","message"}` body, the errors found
// before any route took the request: an unknown route (404, NOT_FOUND), an unparsable Range
// (416, UNKNOWN, as execd words it), a body over the route's limit (413), a refused head (408,
// 414, 431), a request cpp-httplib could not parse or read (400), each with `code` but the first
// two. A request that may not have been read whole (a refusal, or one with a body) ends its
// connection after the answer. A routed request's answer is left as its route made it.
void AnswerUnhandledError(const httplib::Request& req, httplib::Response& res,
                          std::string_view code);

// Whether a request declares a body (which httplib may not have read yet).
bool DeclaresBody(const httplib::Request& req);

// Sets `Connection: close` on `res` and ends the connection once it is written, whatever
// keep-alive says: for an answer given before the request's body was read (what is left of it
// would be taken for the next request).
void CloseConnectionAfter(httplib::Response& res);

// The connection whose request the calling thread is handling; nullptr outside a handler of an
// HttpServer.
ServedConnection* CurrentConnection();

}  // namespace osb::runtime
