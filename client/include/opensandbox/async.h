// The SDK's asynchronous forms: every call that waits on osbd has an XxxAsync twin (the streaming
// ReadFileTo and WriteFileFrom, which work on the caller's streams, excepted), which starts the
// call on a thread of its own and returns a std::future of what Xxx returns, so many sandboxes
// can be created, used and killed at once from one thread:
//
//   std::vector<std::future<absl::StatusOr<opensandbox::Sandbox>>> creating;
//   for (int i = 0; i < 8; ++i) creating.push_back(opensandbox::Sandbox::CreateAsync("debian"));
//   for (auto& f : creating) { auto sandbox = f.get(); ... }
//
// An async call works on copies of what it needs: the handle it was called on may be destroyed
// before the future is ready. Handlers of RunAsync are called on the call's thread.
#pragma once

#include <future>
#include <utility>

namespace opensandbox::internal {

// Runs `fn` on a new thread; the future holds its result.
template <typename Fn>
auto RunAsync(Fn fn) -> std::future<decltype(fn())> {
  return std::async(std::launch::async, std::move(fn));
}

}  // namespace opensandbox::internal
