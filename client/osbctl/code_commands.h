// `osbctl code ...`: a sandbox's code interpreter through osbd's Code service. `code run`
// streams a cell's stdout and stderr as they arrive, prints its result (the value of a final
// expression) on stdout, and an error's traceback on stderr; it exits 0 when the cell completed,
// 1 when it raised (or was interrupted), 125 when the call failed; with neither a context nor a
// language the code is a shell command and osbctl exits with its status. Context commands print
// JSON.
//
//   ctx=$(osbctl -o raw code context create "$id" python | jq -r .id)
//   osbctl code run "$id" --context "$ctx" -- 'x = 6 * 7'
//   osbctl code run "$id" --context "$ctx" -- x        # prints 42
//   echo 'print("from stdin")' | osbctl code run "$id" --language python -
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace osb::cli {

class CodeCommands {
 public:
  // Adds the `code` subcommand tree to `app`.
  explicit CodeCommands(CLI::App& app);

  // Whether the command line chose one of these subcommands.
  bool Chosen() const;

  // Runs the chosen subcommand over `channel`; `call` is the context a signal cancels.
  int Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

 private:
  int RunCell(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

  CLI::App* code_ = nullptr;
  CLI::App *run_, *interrupt_, *create_, *list_, *get_, *delete_;
  std::string sandbox_id_, context_id_, language_, cwd_;
  std::vector<std::string> code_args_;
};

}  // namespace osb::cli
