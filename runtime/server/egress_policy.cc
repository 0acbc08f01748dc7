#include "runtime/server/egress_policy.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "rest/error.h"

namespace osb::runtime {
namespace {

absl::Status Bad(const std::string& what) {
  return rest::MakeError(absl::StatusCode::kInvalidArgument, "SANDBOX::INVALID_PARAMETER",
                         "networkPolicy: " + what);
}

absl::StatusOr<bool> Action(const nlohmann::json& value, const std::string& where) {
  if (!value.is_string() || (value != "allow" && value != "deny")) {
    return Bad(where + " must be \"allow\" or \"deny\"");
  }
  return value == "allow";
}

// A host name of letters, digits, hyphens and underscores in labels of 1..63, at most 253 in
// all, not all digits and dots (an IPv4 address is not a name).
bool IsHostName(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  bool only_digits = true;
  for (absl::string_view label : absl::StrSplit(absl::string_view(name.data(), name.size()), '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (char c : label) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) only_digits = false;
    }
  }
  return !only_digits;
}

// `name` lower-cased and without its final dot.
std::string Normalize(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
}

}  // namespace

absl::StatusOr<EgressPolicy> EgressPolicy::Parse(const std::optional<nlohmann::json>& policy) {
  EgressPolicy p;
  if (!policy.has_value() || policy->is_null()) return p;
  if (!policy->is_object()) return Bad("must be an object");
  if (policy->empty()) return AllowAll();
  for (const auto& [key, value] : policy->items()) {
    if (key != "defaultAction" && key != "egress") {
      return Bad(absl::StrCat("unknown member \"", key, "\" (defaultAction and egress are known)"));
    }
  }
  if (auto d = policy->find("defaultAction"); d != policy->end() && !d->is_null()) {
    auto a = Action(*d, "defaultAction");
    if (!a.ok()) return a.status();
    p.default_allow_ = *a;
  }
  auto egress = policy->find("egress");
  if (egress == policy->end() || egress->is_null()) return p;
  if (!egress->is_array()) return Bad("egress must be an array of rules");
  for (const auto& rule : *egress) {
    if (!rule.is_object()) return Bad("each egress rule must be an object");
    for (const auto& [key, value] : rule.items()) {
      if (key != "action" && key != "target") {
        return Bad(absl::StrCat("unknown member \"", key, "\" in an egress rule"));
      }
    }
    auto action = rule.find("action");
    if (action == rule.end()) return Bad("each egress rule needs an action");
    auto allow = Action(*action, "an egress rule's action");
    if (!allow.ok()) return allow.status();
    auto target = rule.find("target");
    if (target == rule.end() || !target->is_string()) {
      return Bad("each egress rule needs a target (a host name or \"*.\" and one)");
    }
    std::string name = Normalize(target->get<std::string>());
    const bool wildcard = absl::StartsWith(name, "*.");
    if (!IsHostName(wildcard ? std::string_view(name).substr(2) : std::string_view(name))) {
      return Bad(absl::StrCat("egress target \"", target->get<std::string>(),
                              "\" is not a host name or \"*.\" and one (IP addresses and CIDRs "
                              "are not supported)"));
    }
    p.has_allow_rule_ = p.has_allow_rule_ || *allow;
    p.by_name_ = p.by_name_ || *allow != p.default_allow_;
    p.rules_.push_back(Rule{*allow, std::move(name)});
  }
  return p;
}

EgressPolicy EgressPolicy::AllowAll() {
  EgressPolicy p;
  p.default_allow_ = true;
  return p;
}

bool EgressPolicy::Allows(std::string_view name) const {
  const std::string n = Normalize(name);
  for (const Rule& rule : rules_) {
    const bool matches = absl::StartsWith(rule.target, "*.")
                             ? absl::EndsWith(n, absl::string_view(rule.target).substr(1))
                             : n == rule.target;
    if (matches) return rule.allow;
  }
  return default_allow_;
}

nlohmann::json EgressPolicy::RuleJson(const Rule& rule) {
  return {{"action", rule.allow ? "allow" : "deny"}, {"target", rule.target}};
}

nlohmann::json EgressPolicy::ToJson() const {
  nlohmann::json rules = nlohmann::json::array();
  for (const Rule& r : rules_) rules.push_back(RuleJson(r));
  return {{"defaultAction", default_allow_ ? "allow" : "deny"}, {"egress", rules}};
}

absl::StatusOr<EgressPolicy> EgressPolicy::WithRules(const nlohmann::json& rules) const {
  if (!rules.is_array() || rules.empty()) return Bad("the rules must be an array of at least one");
  // Parsed as a policy of their own: the same checks, the same normalized targets.
  auto incoming = Parse(nlohmann::json{{"egress", rules}});
  if (!incoming.ok()) return incoming.status();
  nlohmann::json merged = nlohmann::json::array();
  std::set<std::string> targets;
  for (const Rule& r : incoming->rules_) {
    if (targets.insert(r.target).second) merged.push_back(RuleJson(r));
  }
  for (const Rule& r : rules_) {
    if (targets.count(r.target) == 0) merged.push_back(RuleJson(r));
  }
  return Parse(nlohmann::json{{"defaultAction", default_allow_ ? "allow" : "deny"},
                              {"egress", std::move(merged)}});
}

absl::StatusOr<EgressPolicy> EgressPolicy::WithoutTargets(const nlohmann::json& targets) const {
  if (!targets.is_array() || targets.empty()) {
    return Bad("the targets must be an array of at least one");
  }
  // Compared as the rules' targets are kept; a string no rule could have is simply not there.
  std::set<std::string> gone;
  for (const nlohmann::json& t : targets) {
    if (!t.is_string()) return Bad("each target must be a string");
    gone.insert(Normalize(t.get<std::string>()));
  }
  nlohmann::json kept = nlohmann::json::array();
  for (const Rule& r : rules_) {
    if (gone.count(r.target) == 0) kept.push_back(RuleJson(r));
  }
  return Parse(nlohmann::json{{"defaultAction", default_allow_ ? "allow" : "deny"},
                              {"egress", std::move(kept)}});
}

}  // namespace osb::runtime
