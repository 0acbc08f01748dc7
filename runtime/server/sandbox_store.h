// The sandbox registry on disk: one JSON record per sandbox in <state>/records, replaced
// atomically on every change, so that a restarted osb-runtime finds every sandbox it had and can
// serve it again (sandboxes outlive the runtime: each agent is its sandbox's init).
//
//   SandboxStore store(state_dir + "/records");
//   store.Save(record);                        // after every change of state, metadata or expiry
//   for (StoredSandbox& s : store.LoadAll(&problems)) ...;   // at start
//   store.Remove(id);                          // once the sandbox is gone
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "rest/lifecycle.h"

namespace osb::runtime {

// What a restarted runtime needs to serve a sandbox again.
struct StoredSandbox {
  rest::Sandbox sandbox;  // as the lifecycle API shows it
  std::string access_token;
  pid_t agent_pid = -1;  // -1 before the agent was launched
  uint64_t agent_start_ticks = 0;  // with the pid, names the agent process (tracked_process.h)
  std::vector<std::string> delete_on_kill;  // volume directories its kill removes
  pid_t egress_pid = -1;  // its network helper (egress.h); -1 for a sandbox without egress
  uint64_t egress_start_ticks = 0;
  // Its networkPolicy, normalized (egress_policy.h); absent in records of older runtimes.
  std::optional<nlohmann::json> network_policy;
  // Its names resolve through the runtime's DNS filter (decided at create: rules changed later
  // through the egress API do not change where the sandbox asks).
  bool egress_by_name = false;
};

class SandboxStore {
 public:
  // `dir` must exist; records are written 0600 in it.
  explicit SandboxStore(std::string dir) : dir_(std::move(dir)) {}

  // Replaces the sandbox's record. Not synced to disk: a sandbox does not survive the host going
  // down, but its record must survive osb-runtime going down. One writer per sandbox at a time.
  absl::Status Save(const StoredSandbox& s) const;

  // Forgets a sandbox. A record already gone is not an error.
  absl::Status Remove(const std::string& id) const;

  // Every record. One that cannot be read is renamed <id>.json.corrupt, kept for a person to look
  // at, and described in `problems`.
  std::vector<StoredSandbox> LoadAll(std::vector<std::string>* problems) const;

 private:
  std::string PathOf(const std::string& id) const { return dir_ + "/" + id + ".json"; }
  std::string dir_;
};

}  // namespace osb::runtime
