// EndpointCache: entries per origin and sandbox, dropped on demand, and never more than its bound.
#include "daemon/upstream/endpoint_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace osb::daemon {
namespace {

TEST(EndpointCache, KeyedByOriginAndSandboxAndDroppedOnDemand) {
  EndpointCache cache;
  Origin a{.authority = "a:8080"}, b{.authority = "b:8080"};
  cache.Put(a, "s1", {.endpoint = "a/s1"});
  EXPECT_EQ(cache.Find(a, "s1")->endpoint, "a/s1");
  EXPECT_FALSE(cache.Find(b, "s1").has_value()) << "the same id on another server is another";
  cache.Drop(a, "s1");
  EXPECT_FALSE(cache.Find(a, "s1").has_value());
}

TEST(EndpointCache, NeverHoldsMoreThanItsBound) {
  EndpointCache cache;
  Origin origin{.authority = "a:8080"};
  for (size_t i = 0; i < EndpointCache::kMaxEntries + 50; ++i) {
    cache.Put(origin, "s" + std::to_string(i), {.endpoint = "e"});
  }
  EXPECT_EQ(cache.size(), EndpointCache::kMaxEntries);
  EXPECT_TRUE(cache.Find(origin, "s" + std::to_string(EndpointCache::kMaxEntries + 49)).has_value())
      << "the newest entry is kept";
  cache.Put(origin, "s" + std::to_string(EndpointCache::kMaxEntries + 49), {.endpoint = "f"});
  EXPECT_EQ(cache.size(), EndpointCache::kMaxEntries) << "replacing an entry evicts nothing";
}

}  // namespace
}  // namespace osb::daemon
