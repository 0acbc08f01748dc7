#include "runtime/server/dns_message.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace osb::runtime::dns {
namespace {

constexpr size_t kHeader = 12;
constexpr uint16_t kFlagResponse = 0x8000;
constexpr uint16_t kFlagRecursionDesired = 0x0100;
constexpr uint16_t kFlagRecursionAvailable = 0x0080;
constexpr uint16_t kClassIn = 1;

uint16_t U16(std::string_view p, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[at]) << 8) |
                               static_cast<uint8_t>(p[at + 1]));
}

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

absl::Status Malformed(const char* what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed DNS message: ", what));
}

// Skips the (possibly compressed) name at `*at`, leaving `*at` just after it.
absl::Status SkipName(std::string_view p, size_t* at) {
  while (true) {
    if (*at >= p.size()) return Malformed("a name runs past the end");
    const auto len = static_cast<uint8_t>(p[*at]);
    if ((len & 0xc0) == 0xc0) {  // a pointer ends the name where it stands
      if (*at + 2 > p.size()) return Malformed("a name pointer runs past the end");
      *at += 2;
      return absl::OkStatus();
    }
    if ((len & 0xc0) != 0) return Malformed("a label of an unknown kind");
    *at += 1 + len;
    if (len == 0) return absl::OkStatus();
  }
}

std::string Header(uint16_t id, uint16_t flags, uint16_t answers) {
  std::string out;
  PutU16(out, id);
  PutU16(out, flags);
  PutU16(out, 1);  // the question, echoed
  PutU16(out, answers);
  PutU16(out, 0);
  PutU16(out, 0);
  return out;
}

uint16_t ReplyFlags(bool recursion_desired, Rcode rcode) {
  return kFlagResponse | (recursion_desired ? kFlagRecursionDesired : 0) |
         kFlagRecursionAvailable | static_cast<uint16_t>(rcode);
}

}  // namespace

absl::StatusOr<Query> ParseQuery(std::string_view p) {
  if (p.size() < kHeader) return Malformed("shorter than its header");
  const uint16_t flags = U16(p, 2);
  if ((flags & kFlagResponse) != 0) return Malformed("a response, not a query");
  if (((flags >> 11) & 0xf) != 0) return Malformed("not a standard query");
  if (U16(p, 4) != 1) return Malformed("not exactly one question");
  Query q;
  q.id = U16(p, 0);
  q.recursion_desired = (flags & kFlagRecursionDesired) != 0;
  size_t at = kHeader;
  while (true) {
    if (at >= p.size()) return Malformed("the name runs past the end");
    const auto len = static_cast<uint8_t>(p[at++]);
    if (len == 0) break;
    if (len > 63) return Malformed("a label longer than 63 or compressed");
    if (at + len > p.size()) return Malformed("a label runs past the end");
    for (size_t i = at; i < at + len; ++i) {
      const auto c = static_cast<unsigned char>(p[i]);
      if (c <= ' ' || c > '~' || c == '.') return Malformed("a label with an unusable byte");
    }
    if (!q.name.empty()) q.name.push_back('.');
    q.name.append(absl::AsciiStrToLower(absl::string_view(p.data() + at, len)));
    at += len;
    if (q.name.size() > 253) return Malformed("a name longer than 253");
  }
  if (at + 4 > p.size()) return Malformed("the question runs past the end");
  q.type = U16(p, at);
  q.klass = U16(p, at + 2);
  at += 4;
  q.question = std::string(p.substr(kHeader, at - kHeader));
  return q;
}

std::string Reply(const Query& query, Rcode rcode) {
  return Header(query.id, ReplyFlags(query.recursion_desired, rcode), 0) + query.question;
}

std::string FormatError(std::string_view packet) {
  if (packet.size() < kHeader) return "";
  std::string out;
  PutU16(out, U16(packet, 0));
  PutU16(out, ReplyFlags((U16(packet, 2) & kFlagRecursionDesired) != 0, Rcode::kFormErr));
  out.append(8, '\0');  // no sections
  return out;
}

absl::StatusOr<std::vector<in_addr>> AnswerAddresses(std::string_view p, uint16_t id) {
  if (p.size() < kHeader) return Malformed("shorter than its header");
  if (U16(p, 0) != id) return Malformed("the answer to another query");
  if ((U16(p, 2) & kFlagResponse) == 0) return Malformed("a query, not a response");
  const uint16_t questions = U16(p, 4);
  const uint16_t answers = U16(p, 6);
  size_t at = kHeader;
  for (uint16_t i = 0; i < questions; ++i) {
    if (auto s = SkipName(p, &at); !s.ok()) return s;
    at += 4;
  }
  std::vector<in_addr> out;
  for (uint16_t i = 0; i < answers; ++i) {
    if (auto s = SkipName(p, &at); !s.ok()) return s;
    if (at + 10 > p.size()) return Malformed("a record runs past the end");
    const uint16_t type = U16(p, at);
    const uint16_t klass = U16(p, at + 2);
    const uint16_t length = U16(p, at + 8);
    at += 10;
    if (at + length > p.size()) return Malformed("record data runs past the end");
    if (type == kTypeA && klass == kClassIn && length == 4) {
      in_addr a;
      std::memcpy(&a, p.data() + at, 4);
      out.push_back(a);
    }
    at += length;
  }
  return out;
}

std::string ReplyWithAddresses(const Query& query, const std::vector<in_addr>& addresses,
                               uint32_t ttl) {
  std::string out = Header(query.id, ReplyFlags(query.recursion_desired, Rcode::kNoError),
                           static_cast<uint16_t>(addresses.size())) +
                    query.question;
  for (const in_addr& a : addresses) {
    PutU16(out, 0xc000 | kHeader);  // the name: a pointer to the question's
    PutU16(out, kTypeA);
    PutU16(out, kClassIn);
    PutU16(out, static_cast<uint16_t>(ttl >> 16));
    PutU16(out, static_cast<uint16_t>(ttl & 0xffff));
    PutU16(out, 4);
    out.append(reinterpret_cast<const char*>(&a), 4);
  }
  return out;
}

}  // namespace osb::runtime::dns
