// How many tasks (threads) osb-agent runs of its own. The agent starts them; the runtime adds
// them on top of a sandbox's pids limit, so that `pids` counts the sandbox's processes and threads
// only and a fork bomb inside cannot starve the agent of the threads it serves the sandbox with.
#pragma once

namespace osb {

// HTTP workers, all started when the agent begins serving: every open command stream holds one,
// so the pool is generous.
inline constexpr int kAgentWorkerThreads = 64;

// The workers, the main thread, the child reaper and the readiness port's acceptor
// (agent/readiness_port.h).
inline constexpr int kAgentTasks = kAgentWorkerThreads + 3;

}  // namespace osb
