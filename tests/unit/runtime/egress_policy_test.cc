#include "runtime/server/egress_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace osb::runtime {
namespace {

using nlohmann::json;

EgressPolicy Parsed(const json& j) {
  auto p = EgressPolicy::Parse(j);
  EXPECT_TRUE(p.ok()) << j.dump() << ": " << p.status();
  return p.ok() ? *p : EgressPolicy();
}

TEST(EgressPolicy, NoPolicyLetsNothingOutAndAnEmptyOneEverything) {
  auto none = EgressPolicy::Parse(std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->egress());
  EXPECT_FALSE(Parsed(json()).egress());
  EgressPolicy all = Parsed(json::object());
  EXPECT_TRUE(all.egress());
  EXPECT_FALSE(all.by_name());
  EXPECT_TRUE(all.Allows("anything.example"));
  EgressPolicy deny = Parsed({{"egress", json::array()}});  // defaultAction defaults to deny
  EXPECT_FALSE(deny.egress());
}

TEST(EgressPolicy, TheFirstMatchingRuleDecidesAndWildcardsCoverOnlySubdomains) {
  EgressPolicy p = Parsed({{"defaultAction", "deny"},
                           {"egress",
                            {{{"action", "deny"}, {"target", "bad.example.com"}},
                             {{"action", "allow"}, {"target", "*.Example.com"}},
                             {{"action", "allow"}, {"target", "pypi.org."}}}}});
  EXPECT_TRUE(p.egress());
  EXPECT_TRUE(p.by_name());
  EXPECT_FALSE(p.default_allow());
  EXPECT_TRUE(p.Allows("files.example.com"));
  EXPECT_TRUE(p.Allows("A.B.EXAMPLE.COM."));
  EXPECT_FALSE(p.Allows("bad.example.com"));
  EXPECT_FALSE(p.Allows("example.com"));
  EXPECT_FALSE(p.Allows("notexample.com"));
  EXPECT_TRUE(p.Allows("PyPI.org"));
  EXPECT_FALSE(p.Allows("pypi.org.evil.net"));
}

TEST(EgressPolicy, RulesThatAgreeWithTheDefaultNeedNoNames) {
  EgressPolicy p = Parsed(
      {{"defaultAction", "allow"}, {"egress", {{{"action", "allow"}, {"target", "x.io"}}}}});
  EXPECT_TRUE(p.egress());
  EXPECT_FALSE(p.by_name());
}

TEST(EgressPolicy, ReadsBackWhatItWrites) {
  EgressPolicy p = Parsed(
      {{"defaultAction", "allow"}, {"egress", {{{"action", "deny"}, {"target", "*.Ads.NET"}}}}});
  EgressPolicy again = Parsed(p.ToJson());
  EXPECT_EQ(again.ToJson(), p.ToJson());
  EXPECT_FALSE(again.Allows("x.ads.net"));
  EXPECT_TRUE(again.Allows("ads.net"));
}

TEST(EgressPolicy, RefusesMalformedPolicies) {
  for (const json& bad : {json(1), json("allow"), json{{"defaultAction", "maybe"}},
                          json{{"defaultAction", true}}, json{{"egress", "x"}},
                          json{{"egress", {1}}}, json{{"egress", {{{"target", "x.io"}}}}},
                          json{{"egress", {{{"action", "allow"}, {"target", "192.0.2.1"}}}}},
                          json{{"egress", {{{"action", "allow"}, {"target", "10.0.0.0/8"}}}}},
                          json{{"egress", {{{"action", "allow"}, {"target", "*.*.x.io"}}}}},
                          json{{"egress", {{{"action", "allow"}, {"target", "a b.io"}}}}},
                          json{{"egress",
                                {{{"action", "allow"}, {"target", std::string(300, 'a')}}}}},
                          json{{"unknown", 1}}}) {
    auto p = EgressPolicy::Parse(bad);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << bad.dump();
  }
}

TEST(EgressPolicy, PatchedRulesComeFirstTheFirstOfATargetWinsAndTheDefaultStays) {
  EgressPolicy p = Parsed({{"defaultAction", "deny"},
                           {"egress",
                            {{{"action", "allow"}, {"target", "pypi.org"}},
                             {{"action", "allow"}, {"target", "example.com"}}}}});
  auto patched = p.WithRules({{{"action", "deny"}, {"target", "Example.com."}},
                              {{"action", "allow"}, {"target", "example.com"}},
                              {{"action", "allow"}, {"target", "*.github.com"}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->ToJson(),
            json({{"defaultAction", "deny"},
                  {"egress",
                   {{{"action", "deny"}, {"target", "example.com"}},
                    {{"action", "allow"}, {"target", "*.github.com"}},
                    {{"action", "allow"}, {"target", "pypi.org"}}}}}));
  EXPECT_FALSE(patched->Allows("example.com"));
  EXPECT_TRUE(patched->Allows("api.github.com"));
  // Malformed patches change nothing and say why.
  for (const json& bad : {json::array(), json::object(), json({{{"action", "allow"}}}),
                          json({{{"action", "allow"}, {"target", "10.0.0.1"}}})}) {
    EXPECT_TRUE(absl::IsInvalidArgument(p.WithRules(bad).status())) << bad.dump();
  }
}

TEST(EgressPolicy, DeletedTargetsGoAndUnknownOnesAreIgnored) {
  EgressPolicy p = Parsed({{"defaultAction", "allow"},
                           {"egress",
                            {{{"action", "deny"}, {"target", "bad.example.com"}},
                             {{"action", "deny"}, {"target", "*.blocked.org"}}}}});
  auto removed = p.WithoutTargets({"BAD.example.com", "never.there"});
  ASSERT_TRUE(removed.ok()) << removed.status();
  const json kept = {{"action", "deny"}, {"target", "*.blocked.org"}};
  EXPECT_EQ(removed->ToJson(), json({{"defaultAction", "allow"}, {"egress", {kept}}}));
  EXPECT_TRUE(removed->Allows("bad.example.com"));
  auto all = removed->WithoutTargets({"*.blocked.org"});
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->by_name());
  EXPECT_TRUE(all->Allows("x.blocked.org"));
  for (const json& bad : {json::array(), json("a.com"), json({1})}) {
    EXPECT_TRUE(absl::IsInvalidArgument(p.WithoutTargets(bad).status())) << bad.dump();
  }
  // A target no rule could have (not a host name) is simply not there.
  auto same = p.WithoutTargets({"not a name!", "10.0.0.1"});
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->ToJson(), p.ToJson());
}

}  // namespace
}  // namespace osb::runtime
