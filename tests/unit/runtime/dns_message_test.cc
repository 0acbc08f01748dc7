#include "runtime/server/dns_message.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>

namespace osb::runtime::dns {
namespace {

// A query for `name` of `type` with id 0x1234 and recursion desired, as a stub resolver sends.
std::string QueryFor(const std::string& name, uint16_t type) {
  std::string q = {'\x12', '\x34', '\x01', '\x00', 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(static_cast<char>(dot - start));
    q.append(name, start, dot - start);
    start = dot + 1;
  }
  q.push_back('\0');
  q.push_back(static_cast<char>(type >> 8));
  q.push_back(static_cast<char>(type & 0xff));
  q.append({0, 1});
  return q;
}

in_addr Address(const char* text) {
  in_addr a{};
  ::inet_pton(AF_INET, text, &a);
  return a;
}

TEST(DnsMessage, ReadsAQueryInLowerCase) {
  auto q = ParseQuery(QueryFor("PyPI.org", kTypeAAAA));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->id, 0x1234);
  EXPECT_TRUE(q->recursion_desired);
  EXPECT_EQ(q->name, "pypi.org");
  EXPECT_EQ(q->type, kTypeAAAA);
}

TEST(DnsMessage, RepliesEchoTheQuestionAndCarryTheirAddresses) {
  auto q = ParseQuery(QueryFor("a.example.com", kTypeA));
  ASSERT_TRUE(q.ok());
  const std::string nx = Reply(*q, Rcode::kNxDomain);
  EXPECT_EQ(nx.substr(0, 2), "\x12\x34");
  EXPECT_EQ(static_cast<uint8_t>(nx[3]) & 0xf, 3) << "rcode NXDOMAIN";
  EXPECT_EQ(nx.substr(12), q->question);
  auto none = AnswerAddresses(nx, 0x1234);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto two = AnswerAddresses(
      ReplyWithAddresses(*q, {Address("192.0.2.7"), Address("198.51.100.1")}, 30), 0x1234);
  ASSERT_TRUE(two.ok()) << two.status();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].s_addr, Address("192.0.2.7").s_addr);
  EXPECT_EQ((*two)[1].s_addr, Address("198.51.100.1").s_addr);
  EXPECT_FALSE(AnswerAddresses(nx, 0x4321).ok()) << "the answer to another query";
}

TEST(DnsMessage, RefusesWhatIsNotOneWellFormedQuestion) {
  const std::string good = QueryFor("example.com", kTypeA);
  EXPECT_FALSE(ParseQuery("").ok());
  EXPECT_FALSE(ParseQuery(good.substr(0, 11)).ok()) << "short header";
  EXPECT_FALSE(ParseQuery(good.substr(0, good.size() - 1)).ok()) << "truncated question";
  std::string response = good;
  response[2] = '\x81';
  EXPECT_FALSE(ParseQuery(response).ok());
  std::string two_questions = good;
  two_questions[5] = 2;
  EXPECT_FALSE(ParseQuery(two_questions).ok());
  std::string pointer = good;
  pointer[12] = '\xc0';
  EXPECT_FALSE(ParseQuery(pointer).ok()) << "compression in a query";
  std::string dotted = QueryFor("ab", kTypeA);
  dotted[13] = '.';
  EXPECT_FALSE(ParseQuery(dotted).ok()) << "a dot inside a label";
  std::string nul = QueryFor("ab", kTypeA);
  nul[14] = '\0';
  EXPECT_FALSE(ParseQuery(nul).ok());
  // A FORMERR needs the header, and echoes its id.
  EXPECT_EQ(FormatError("short"), "");
  const std::string formerr = FormatError(pointer);
  ASSERT_EQ(formerr.size(), 12u);
  EXPECT_EQ(formerr.substr(0, 2), "\x12\x34");
  EXPECT_EQ(static_cast<uint8_t>(formerr[3]) & 0xf, 1);
}

TEST(DnsMessage, ReadsCompressedAnswersAndSkipsOtherRecords) {
  auto q = ParseQuery(QueryFor("www.example.com", kTypeA));
  ASSERT_TRUE(q.ok());
  // Header (1 question, 2 answers), the question, a CNAME to a compressed name, then the A.
  std::string r = {'\x12', '\x34', '\x81', '\x80', 0, 1, 0, 2, 0, 0, 0, 0};
  r += q->question;
  r += std::string{'\xc0', 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, '\xc0', 16};  // CNAME → example.com
  r += std::string{'\xc0', 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, '\xc0', 0, 2, 9};
  auto addresses = AnswerAddresses(r, 0x1234);
  ASSERT_TRUE(addresses.ok()) << addresses.status();
  ASSERT_EQ(addresses->size(), 1u);
  EXPECT_EQ((*addresses)[0].s_addr, Address("192.0.2.9").s_addr);
  EXPECT_FALSE(AnswerAddresses(r.substr(0, r.size() - 2), 0x1234).ok()) << "truncated data";
}

}  // namespace
}  // namespace osb::runtime::dns
