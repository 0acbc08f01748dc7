// What the SDK reports about sandboxes: their state, how to reach their ports, their resource
// use, and pages of them. Plain values, copied out of osbd's answers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace opensandbox {

// Lifecycle status of a sandbox, as the OpenSandbox service reports it.
struct SandboxStatus {
  // Pending, Running, Pausing, Paused, Resuming, Stopping, Terminated or Failed; a string
  // because services may add states (treat unknown ones as not ready).
  std::string state;
  // Short machine-readable reason, e.g. "CONTAINER_RUNNING"; may be empty.
  std::string reason;
  // Human-readable detail; may be empty.
  std::string message;
};

// A sandbox as the service reports it (the official SDKs' SandboxInfo).
struct SandboxInfo {
  std::string id;
  SandboxStatus status;
  absl::Time created_at = absl::InfinitePast();
  // When the TTL deletes it; unset for a manual-cleanup sandbox.
  std::optional<absl::Time> expires_at;
  // The sandbox's main process, [executable, args...].
  std::vector<std::string> entrypoint;
  // Image reference; empty for snapshot restores and right after create.
  std::string image;
  std::map<std::string, std::string> metadata;
};

// A snapshot of a sandbox's files (the official SDKs' SnapshotInfo); a new sandbox starts from it
// with SandboxSpec::snapshot_id once it is Ready.
struct SnapshotInfo {
  std::string id;
  std::string sandbox_id;
  std::string name;
  // Creating, Ready or Failed (Deleting on some services), with a reason such as
  // "snapshot_ready" or "snapshot_capture_failed" and a message.
  SandboxStatus status;
  absl::Time created_at = absl::InfinitePast();
};

// Which snapshots SandboxManager::ListSnapshots returns.
struct SnapshotFilter {
  std::string sandbox_id;           // empty: any
  std::vector<std::string> states;  // any of these (case-insensitive); empty: all
  int page = 0;                     // 1-based; 0: the first
  int page_size = 0;                // 1 to 200; 0: 20
};

// One page of snapshots, newest first.
struct SnapshotPage {
  std::vector<SnapshotInfo> snapshots;
  int page = 0;
  int page_size = 0;
  std::int64_t total_items = 0;
  int total_pages = 0;
  bool has_next_page = false;
};

// How to reach a port inside a sandbox.
struct Endpoint {
  // Scheme-less address, e.g. "127.0.0.1:8080/sandboxes/<id>/proxy/8000".
  std::string endpoint;
  // `endpoint` with the protocol, ready to use.
  std::string url;
  // Headers every request to the endpoint must carry (e.g. its access token).
  std::map<std::string, std::string> headers;
};

// CPU and memory use inside a sandbox (the official SDKs' SandboxMetrics).
struct SandboxMetrics {
  double cpu_count = 0;
  // 0 to 100.
  double cpu_used_percent = 0;
  double memory_total_mib = 0;
  double memory_used_mib = 0;
  absl::Time time = absl::InfinitePast();
};

// Which sandboxes SandboxManager::List returns.
struct SandboxFilter {
  // Any of these states (case-insensitive); empty: all.
  std::vector<std::string> states;
  // All of these metadata pairs; empty: no filter.
  std::map<std::string, std::string> metadata;
  // 1-based page; 0: the first.
  int page = 0;
  // 1 to 200; 0: 20.
  int page_size = 0;
};

// One page of a list, newest first (the official SDKs' PagedSandboxInfos).
struct SandboxPage {
  std::vector<SandboxInfo> sandboxes;
  int page = 0;
  int page_size = 0;
  std::int64_t total_items = 0;
  int total_pages = 0;
  bool has_next_page = false;
};

}  // namespace opensandbox
