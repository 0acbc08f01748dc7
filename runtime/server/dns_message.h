// The little of DNS (RFC 1035) the egress filter needs: reading a query a sandbox sent, answering
// it without asking anyone (NXDOMAIN for a denied name, no addresses for one it does not resolve),
// and reading the IPv4 addresses out of an upstream server's answer. Everything here reads
// untrusted bytes: every length is checked, compression pointers are followed a bounded number of
// times, and malformed input is an error, never a crash.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace osb::runtime::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeAAAA = 28;

enum class Rcode : uint8_t { kNoError = 0, kFormErr = 1, kServFail = 2, kNxDomain = 3 };

struct Query {
  uint16_t id = 0;
  bool recursion_desired = false;
  std::string name;  // lower case, labels joined with '.', no final dot; "" for the root
  uint16_t type = 0;
  uint16_t klass = 0;
  std::string question;  // the question section as sent, echoed in a reply
};

// A standard query with exactly one question. InvalidArgument for anything else.
absl::StatusOr<Query> ParseQuery(std::string_view packet);

// An answer to `query` with `rcode` and no records.
std::string Reply(const Query& query, Rcode rcode);

// A FORMERR answer to a packet whose header could be read but whose question could not; "" when
// not even the header could (such a packet gets no answer).
std::string FormatError(std::string_view packet);

// The IPv4 addresses of the A records in the answer section of `response`, an answer to the
// query with `id`. InvalidArgument when it is not such an answer.
absl::StatusOr<std::vector<in_addr>> AnswerAddresses(std::string_view response, uint16_t id);

// An answer to `query` with an A record (TTL `ttl`) for each of `addresses`: what a DNS server
// of a test sends.
std::string ReplyWithAddresses(const Query& query, const std::vector<in_addr>& addresses,
                               uint32_t ttl);

}  // namespace osb::runtime::dns
