"""Bench scenario 1 with the official Python SDK (`opensandbox`, sync API) against osb-runtime.

Runs `--warmup` unrecorded and `--iterations` recorded cycles of create -> `echo hi` until its
first stdout line -> kill, and prints {"first_output_ms": [...], "cycle_ms": [...]} as JSON.
"""
import argparse
import json
import sys
import time
from datetime import timedelta

from opensandbox.config.connection_sync import ConnectionConfigSync
from opensandbox.models.execd_sync import ExecutionHandlersSync
from opensandbox.sync.sandbox import SandboxSync


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domain", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    # osb-runtime's endpoints are the server-proxy shape; the SDK reaches execd through it.
    config = ConnectionConfigSync(
        domain=args.domain, api_key=args.api_key, use_server_proxy=True,
        request_timeout=timedelta(seconds=60))
    first_output, cycle = [], []
    for i in range(args.warmup + args.iterations):
        start = time.perf_counter()
        first = []
        sandbox = SandboxSync.create("host", connection_config=config,
                                     health_check_polling_interval=timedelta(milliseconds=10))
        try:
            handlers = ExecutionHandlersSync(
                on_stdout=lambda msg: first.append(time.perf_counter()) if not first else None)
            execution = sandbox.commands.run("echo hi", handlers=handlers)
            if not first or execution.logs.stdout[0].text != "hi":
                print("echo hi printed nothing", file=sys.stderr)
                return 1
        finally:
            sandbox.kill()
            sandbox.close()
        end = time.perf_counter()
        if i >= args.warmup:
            first_output.append((first[0] - start) * 1000)
            cycle.append((end - start) * 1000)
    print(json.dumps({"first_output_ms": first_output, "cycle_ms": cycle}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
