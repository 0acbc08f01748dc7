#include "runtime/agent/kernel_drivers.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rest/shell_quote.h"
#include "rest/string_views.h"

namespace osb::agent {
namespace {

using rest::AbslView;

constexpr char kPythonDriver[] = R"PY(
def _osb_kernel():
    import ast, asyncio, builtins, json, os, signal, sys, traceback, types
    control = os.fdopen(3, "r", encoding="utf-8", errors="replace")
    replies = os.fdopen(4, "w", encoding="utf-8")
    os.set_inheritable(3, False)
    os.set_inheritable(4, False)
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, errors="backslashreplace")
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    sys.modules["__main__"] = main
    sys.argv = [""]
    namespace = main.__dict__
    loop = asyncio.new_event_loop()
    state = {"running": False}

    def interrupt(signum, frame):
        # Only a running cell is interrupted; between cells the signal is ignored.
        if state["running"]:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)

    def represent(value):
        data = {"text": repr(value)}
        for method, mime in (("_repr_html_", "text/html"), ("_repr_markdown_", "text/markdown")):
            try:
                shown = getattr(value, method, None)
                shown = shown() if callable(shown) else None
                if isinstance(shown, str):
                    data[mime] = shown
            except Exception:
                pass
        return data

    def describe(error):
        if isinstance(error, SyntaxError):
            lines = traceback.format_exception_only(type(error), error)
        else:
            tb = error.__traceback__
            # The kernel's own frames (this -c text is "<string>") are not the user's.
            while tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
                tb = tb.tb_next
            lines = traceback.format_exception(type(error), error, tb)
        lines = [line for chunk in lines for line in chunk.rstrip("\n").split("\n")]
        return {"ename": type(error).__name__, "evalue": str(error), "traceback": lines}

    def run(path):
        reply = {}
        try:
            state["running"] = True
            with open(path, encoding="utf-8", errors="replace") as f:
                tree = ast.parse(f.read(), path, "exec")
            last = None
            if tree.body and isinstance(tree.body[-1], ast.Expr):
                last = ast.Expression(tree.body.pop().value)
            flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            done = eval(compile(tree, path, "exec", flags=flags), namespace)
            if asyncio.iscoroutine(done):
                loop.run_until_complete(done)
            if last is not None:
                value = eval(compile(last, path, "eval", flags=flags), namespace)
                if asyncio.iscoroutine(value):
                    value = loop.run_until_complete(value)
                if value is not None:
                    namespace["_"] = value
                    reply["result"] = represent(value)
        except BaseException as error:
            state["running"] = False
            reply["error"] = describe(error)
        finally:
            state["running"] = False
        return reply

    print(json.dumps({"ready": True}), file=replies, flush=True)
    for line in control:
        reply = run(line.rstrip("\n"))
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


_osb_kernel()
)PY";

constexpr char kJavaScriptDriver[] = R"JS(
(() => {
  const fs = require("fs");
  const readline = require("readline");
  const util = require("util");
  const vm = require("vm");
  // Cells run in this global context, as in Node's REPL: `require` is theirs too.
  globalThis.require = require;
  // Only a running cell is interrupted (breakOnSigint); between cells the signal is ignored.
  process.on("SIGINT", () => {});
  const reply = (r) => fs.writeSync(4, JSON.stringify(r) + "\n");
  const describe = (e) => {
    if (e !== null && typeof e === "object" && typeof e.name === "string") {
      return {ename: e.name, evalue: String(e.message ?? ""),
              traceback: String(e.stack ?? `${e.name}: ${e.message}`).split("\n")
                .filter((l) => !/^\s+at .*(node:vm|node:internal|\[eval\])/.test(l))};
    }
    return {ename: "Error", evalue: util.inspect(e), traceback: [`Uncaught ${util.inspect(e)}`]};
  };
  const run = async (path) => {
    const r = {};
    try {
      const source = fs.readFileSync(path, "utf8");
      let value = vm.runInThisContext(source, {filename: path, breakOnSigint: true});
      if (value !== null && typeof value === "object" && typeof value.then === "function") {
        value = await value;
      }
      if (value !== undefined) r.result = {text: util.inspect(value)};
    } catch (e) {
      r.error = describe(e);
    }
    return r;
  };
  const control = readline.createInterface({input: fs.createReadStream(null, {fd: 3})});
  let queue = Promise.resolve();
  control.on("line", (path) => { queue = queue.then(async () => reply(await run(path))); });
  control.on("close", () => queue.then(() => process.exit(0)));
  reply({ready: true});
})();
)JS";

// Between cells SIGINT is ignored; while one runs, it makes `.` return 130, ending the cell.
constexpr char kBashDriver[] = R"SH(
trap '' INT
printf '{"ready":true}\n' >&4
while IFS= read -r -u 3 __osb_cell; do
  trap 'return 130' INT
  . "$__osb_cell"
  __osb_status=$?
  trap '' INT
  printf '{"exit_code":%d}\n' "$__osb_status" >&4
done
)SH";

}  // namespace

absl::StatusOr<CodeLanguage> ParseCodeLanguage(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(AbslView(name));
  if (lower == "python") return CodeLanguage::kPython;
  if (lower == "bash") return CodeLanguage::kBash;
  if (lower == "javascript") return CodeLanguage::kJavaScript;
  return absl::InvalidArgumentError(absl::StrCat(
      "language '", AbslView(name), "' is not supported (supported: python, bash, javascript)"));
}

const char* NameOf(CodeLanguage language) {
  switch (language) {
    case CodeLanguage::kPython:
      return "python";
    case CodeLanguage::kBash:
      return "bash";
    case CodeLanguage::kJavaScript:
      return "javascript";
  }
  return "";
}

const char* CellExtension(CodeLanguage language) {
  switch (language) {
    case CodeLanguage::kPython:
      return "py";
    case CodeLanguage::kBash:
      return "sh";
    case CodeLanguage::kJavaScript:
      return "js";
  }
  return "";
}

std::string KernelCommand(CodeLanguage language) {
  switch (language) {
    case CodeLanguage::kPython:
      return absl::StrCat("exec python3 -c ", rest::ShellQuote(kPythonDriver));
    case CodeLanguage::kBash:
      return kBashDriver;
    case CodeLanguage::kJavaScript:
      return absl::StrCat("exec node -e ", rest::ShellQuote(kJavaScriptDriver));
  }
  return "";
}

}  // namespace osb::agent
