// A sandbox's networkPolicy (COMPAT.md §1.3): a default action and egress rules by name, FQDN
// ("pypi.org") or wildcard ("*.example.com": the names under example.com, not example.com itself),
// evaluated in order, the first match deciding. osb-runtime enforces it in two layers:
//   - the network helper (egress.h) is started when anything may leave at all;
//   - when rules disagree with the default, the sandbox's names resolve through the runtime's DNS
//     filter (dns_filter.h), which answers NXDOMAIN for a denied name; under defaultAction deny
//     the sandbox's routes also lead nowhere except to the addresses its allowed names resolved
//     to (egress_routes.h), so an address typed in directly is unreachable too.
//
//   auto policy = EgressPolicy::Parse(request.network_policy);  // 400 for a malformed one
//   if (policy->egress()) ...; if (policy->by_name()) ...; policy->Allows("pypi.org")
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace osb::runtime {

class EgressPolicy {
 public:
  // No policy (absent or null): nothing leaves (loopback only, the safe default). An empty
  // object: everything may leave, as the official egress sidecar starts allow-all. Otherwise
  // `defaultAction` (default "deny") and `egress` rules. InvalidArgument
  // (SANDBOX::INVALID_PARAMETER) for members of the wrong type, unknown members, and targets
  // that are not a host name or "*." and one (IP addresses and CIDRs are not supported, as in
  // the official egress).
  static absl::StatusOr<EgressPolicy> Parse(const std::optional<nlohmann::json>& policy);

  // Everything may leave: what a sandbox with egress had before policies were stored.
  static EgressPolicy AllowAll();

  // Whether anything may leave: the sandbox needs the network helper.
  bool egress() const { return default_allow_ || has_allow_rule_; }
  // Whether some rule disagrees with the default, so names decide (the DNS filter).
  bool by_name() const { return by_name_; }
  bool default_allow() const { return default_allow_; }
  // Whether `name` (any case, with or without the final dot) may be resolved and reached.
  bool Allows(std::string_view name) const;

  // The normalized policy, which Parse reads back to the same policy.
  nlohmann::json ToJson() const;

  // The egress API's changes (the official sidecar's /policy). WithRules: `rules` (a PATCH body:
  // an array of at least one rule) merged in: they come first, the first of a target wins, and
  // the rules they name a target of go. WithoutTargets: the rules for `targets` (a DELETE body:
  // an array of at least one target) removed; targets without a rule are ignored. The default
  // action stays. InvalidArgument for a malformed body.
  absl::StatusOr<EgressPolicy> WithRules(const nlohmann::json& rules) const;
  absl::StatusOr<EgressPolicy> WithoutTargets(const nlohmann::json& targets) const;

 private:
  struct Rule {
    bool allow;
    std::string target;  // lower case; "*.example.com" for a wildcard
  };
  static nlohmann::json RuleJson(const Rule& rule);
  bool default_allow_ = false;
  bool has_allow_rule_ = false;
  bool by_name_ = false;
  std::vector<Rule> rules_;
};

}  // namespace osb::runtime
