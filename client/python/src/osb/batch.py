"""Batches: many shell commands or code cells in one call, run by osbd with bounded parallelism in
one sandbox, spread over several (or run in each), or in fresh sandboxes from a template or pool;
each job's result arrives as it completes.

    from osb import BatchJob, BatchOptions, BatchRunner, BatchTarget

    with BatchRunner.create() as batches:
        jobs = [BatchJob(f"pytest {t}", id=t) for t in tests]
        for result in batches.stream(BatchTarget.fresh(template="python"), jobs,
                                     BatchOptions(max_parallel=8)):
            print(result.job_id, "ok" if result.success else result.error)

A job that fails is a result (`success` False, with its exit code, output and error), never an
exception; a call raises only when the batch cannot run at all. osb.aio.AsyncBatchRunner is the
asyncio twin.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, List, Optional, Union

import grpc

from osb import _wire
from osb.config import ConnectionConfig
from osb.exceptions import from_rpc_error
from osb.models import BatchJob, BatchJobResult, BatchOptions, BatchTarget
from osb.sandbox import Sandbox, _Daemon

_Target = Union[BatchTarget, Sandbox, str]
_Jobs = Iterable[Union[BatchJob, str]]


class BatchRunner:
    """Runs batches through osbd's Commands.RunBatch."""

    def __init__(self, daemon: _Daemon) -> None:
        self._daemon = daemon

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None) -> "BatchRunner":
        return cls(_Daemon(connection_config or ConnectionConfig()))

    def stream(self, target: _Target, jobs: _Jobs, options: Optional[BatchOptions] = None
               ) -> Iterator[BatchJobResult]:
        """Starts the batch on the first `next()` and yields each job's result as it completes.

        `target` is a BatchTarget, or one sandbox (a Sandbox or its id); `jobs` are BatchJobs, or
        strs as commands. Raises InvalidArgumentException at once for what cannot be sent (a bad
        target, a job with both command and code, a negative count), and while iterating a
        SandboxException when osbd refuses the batch (InvalidArgumentException for no jobs or a
        repeated job id) or the stream breaks. Closing the iterator early (`close()`, or dropping
        it) cancels the call: osbd stops starting jobs, and those running finish.
        """
        request = _wire.batch_request(self._daemon.config, target, jobs, options)
        return self._results(request)

    def run(self, target: _Target, jobs: _Jobs, options: Optional[BatchOptions] = None, *,
            on_result: Optional[Callable[[BatchJobResult], None]] = None
            ) -> List[BatchJobResult]:
        """Runs the batch to its end and returns every result in completion order, calling
        `on_result` with each as it arrives; fails as `stream` does, and with what `on_result`
        raises (the batch is then cancelled)."""
        results = []
        stream = self.stream(target, jobs, options)
        try:
            for result in stream:
                results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            stream.close()
        return results

    def _results(self, request) -> Iterator[BatchJobResult]:
        call = self._daemon.commands.RunBatch(request)
        try:
            for message in call:
                yield _wire.batch_job_result(message)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        finally:
            call.cancel()  # a no-op once the call ended; stops the batch if the caller left

    def close(self) -> None:
        self._daemon.channel.close()

    def __enter__(self) -> "BatchRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
