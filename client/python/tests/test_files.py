"""End-to-end tests of sandbox.files (sync and async) against a real osbd and osb-runtime: every
operation of osbd's Files service, under the official SDK's names."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from osb import (AsyncSandbox, ContentReplaceEntry, ContentReplaceResult, DirectoryListEntry,
                 FailedPreconditionException, InvalidArgumentException, MoveEntry, Sandbox,
                 SandboxException, SandboxNotFoundException, SearchEntry, SetPermissionEntry,
                 WriteEntry)

IMAGE = "host"


@pytest.fixture
def root(sandbox):
    """A fresh directory for one test."""
    path = "/tmp/files-" + uuid.uuid4().hex[:8]
    sandbox.files.create_directories([WriteEntry(path)])
    return path


def sh(sandbox, command):
    execution = sandbox.commands.run(command)
    assert execution.exit_code == 0, (command, execution.logs)
    return [m.text for m in execution.logs.stdout]


def test_write_files_then_read_text_bytes_and_ranges(sandbox, root):
    binary = bytes(range(256))
    sandbox.files.write_files([
        WriteEntry(f"{root}/deep/a.txt", "grüße\n", mode=0o640),
        WriteEntry(f"{root}/b.bin", binary),
        WriteEntry(f"{root}/c.txt", io.StringIO("from a text file object")),
        WriteEntry(f"{root}/d.txt", "latin", encoding="latin-1"),
    ])
    assert sandbox.files.read_file(f"{root}/deep/a.txt") == "grüße\n"
    assert sandbox.files.read_bytes(f"{root}/b.bin") == binary
    assert sandbox.files.read_file(f"{root}/c.txt") == "from a text file object"
    assert sh(sandbox, f"stat -c %a {root}/deep/a.txt") == ["640"]

    assert sandbox.files.read_bytes(f"{root}/b.bin", range_header="bytes=16-31") == binary[16:32]
    assert sandbox.files.read_bytes(f"{root}/b.bin", range_header="bytes=250-") == binary[250:]
    assert sandbox.files.read_bytes(f"{root}/b.bin", range_header="bytes=-3") == binary[-3:]
    assert sandbox.files.read_file(f"{root}/deep/a.txt", range_header="bytes=0-1") == "gr"

    sandbox.files.write_file(f"{root}/b.bin", b"")  # replaced, now empty
    assert sandbox.files.read_bytes(f"{root}/b.bin") == b""
    assert list(sandbox.files.read_bytes_stream(f"{root}/b.bin")) == []


def test_large_files_stream_both_ways_in_chunks(sandbox, root):
    size = 3 * 1024 * 1024 + 12345
    data = os.urandom(size)
    # A file object: sent in chunks as it is read, its size unknown up front.
    sandbox.files.write_file(f"{root}/big", io.BytesIO(data), mode=0o600)
    assert sh(sandbox, f"stat -c %s {root}/big") == [str(size)]
    assert sh(sandbox, f"sha256sum {root}/big | cut -d' ' -f1") == [
        hashlib.sha256(data).hexdigest()]

    pieces = sandbox.files.read_bytes_stream(f"{root}/big", chunk_size=1024 * 1024)
    sizes, digest = [], hashlib.sha256()
    for piece in pieces:
        sizes.append(len(piece))
        digest.update(piece)
    assert sizes == [1024 * 1024] * 3 + [12345]
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()
    # Leaving a stream early cancels the read; the next call is unaffected.
    stream = sandbox.files.read_bytes_stream(f"{root}/big", chunk_size=1000)
    assert next(stream) == data[:1000]
    stream.close()
    assert sandbox.files.read_bytes(f"{root}/big", range_header="bytes=-10") == data[-10:]
    # A missing file fails when the stream is asked for, not later.
    with pytest.raises(SandboxNotFoundException):
        sandbox.files.read_bytes_stream(f"{root}/none")


def test_get_file_info(sandbox, root):
    sandbox.files.write_file(f"{root}/f.txt", "12345", mode=0o604)
    sh(sandbox, f"ln -s f.txt {root}/link")
    before = datetime.now(timezone.utc) - timedelta(minutes=1)
    infos = sandbox.files.get_file_info([f"{root}/f.txt", root, f"{root}/link"])
    assert set(infos) == {f"{root}/f.txt", root, f"{root}/link"}
    info = infos[f"{root}/f.txt"]
    assert (info.path, info.entry_type, info.size, info.mode) == (
        f"{root}/f.txt", "file", 5, 0o604)
    assert info.owner and info.group
    assert info.modified_at > before and info.created_at is not None
    assert infos[root].entry_type == "directory"
    assert infos[f"{root}/link"].entry_type == "symlink"
    with pytest.raises(SandboxNotFoundException) as caught:
        sandbox.files.get_file_info([f"{root}/f.txt", f"{root}/missing"])
    assert caught.value.status_code == grpc.StatusCode.NOT_FOUND


def test_create_and_list_directories(sandbox, root):
    sandbox.files.create_directories([WriteEntry(f"{root}/a/b/c", mode=0o700),
                                      WriteEntry(f"{root}/z")])
    assert sh(sandbox, f"stat -c %a {root}/a/b/c {root}/z") == ["700", "755"]
    sandbox.files.write_file(f"{root}/a/file.txt", "x")

    children = sandbox.files.list_directory(DirectoryListEntry(f"{root}"))
    assert [(e.path, e.entry_type) for e in children] == [
        (f"{root}/a", "directory"), (f"{root}/z", "directory")]
    deep = sandbox.files.list_directory(DirectoryListEntry(f"{root}", depth=3))
    assert [e.path for e in deep] == [f"{root}/a", f"{root}/a/b", f"{root}/a/b/c",
                                      f"{root}/a/file.txt", f"{root}/z"]
    assert [e.path for e in sandbox.files.list_directory(f"{root}/a")] == [
        f"{root}/a/b", f"{root}/a/file.txt"]
    with pytest.raises(InvalidArgumentException):
        sandbox.files.list_directory(DirectoryListEntry(f"{root}", depth=-1))


def test_search_finds_files_by_glob(sandbox, root):
    sandbox.files.write_files([WriteEntry(f"{root}/x.py", "1"), WriteEntry(f"{root}/y.txt", "2"),
                               WriteEntry(f"{root}/sub/z.py", "3")])
    found = sandbox.files.search(SearchEntry(root, "*.py"))
    assert sorted(e.path for e in found) == [f"{root}/sub/z.py", f"{root}/x.py"]
    assert all(e.entry_type == "file" for e in found)
    assert len(sandbox.files.search(SearchEntry(root))) == 3  # default pattern: every file
    with pytest.raises(SandboxNotFoundException):
        sandbox.files.search(SearchEntry(f"{root}/nowhere", "*"))


def test_move_files(sandbox, root):
    sandbox.files.write_files([WriteEntry(f"{root}/one", "1"), WriteEntry(f"{root}/two", "2")])
    sandbox.files.move_files([MoveEntry(f"{root}/one", f"{root}/moved/uno"),
                              MoveEntry(f"{root}/two", f"{root}/dos")])
    assert sandbox.files.read_file(f"{root}/moved/uno") == "1"
    assert sandbox.files.read_file(f"{root}/dos") == "2"
    assert sh(sandbox, f"ls {root}") == ["dos", "moved"]
    with pytest.raises(SandboxNotFoundException):
        sandbox.files.move_files([MoveEntry(f"{root}/one", f"{root}/again")])
    with pytest.raises(InvalidArgumentException) as caught:  # the destination exists
        sandbox.files.move_files([MoveEntry(f"{root}/dos", f"{root}/moved/uno")])
    assert caught.value.http_status == 400
    assert sandbox.files.read_file(f"{root}/dos") == "2"


def test_delete_files_and_directories(sandbox, root):
    sandbox.files.write_files([WriteEntry(f"{root}/keep", "k"), WriteEntry(f"{root}/gone", "g"),
                               WriteEntry(f"{root}/tree/a/b", "b")])
    sandbox.files.delete_files([f"{root}/gone", f"{root}/never-was"])  # missing ones ignored
    assert sh(sandbox, f"ls {root}") == ["keep", "tree"]
    with pytest.raises(SandboxException):
        sandbox.files.delete_files([f"{root}/tree"])  # a directory
    assert sh(sandbox, f"ls {root}") == ["keep", "tree"]
    sandbox.files.delete_directories([f"{root}/tree"])
    assert sh(sandbox, f"ls {root}") == ["keep"]


def test_set_permissions(sandbox, root):
    sandbox.files.write_files([WriteEntry(f"{root}/a", "a", mode=0o644),
                               WriteEntry(f"{root}/b", "b", mode=0o644)])
    sandbox.files.set_permissions([SetPermissionEntry(f"{root}/a", mode=0o751),
                                   SetPermissionEntry(f"{root}/b", owner="65534", group="65534")])
    assert sh(sandbox, f"stat -c '%a %u:%g' {root}/a {root}/b") == ["751 0:0", "644 65534:65534"]
    info = sandbox.files.get_file_info([f"{root}/a"])[f"{root}/a"]
    assert info.mode == 0o751
    with pytest.raises(SandboxNotFoundException):
        sandbox.files.set_permissions([SetPermissionEntry(f"{root}/missing", mode=0o600)])


def test_replace_contents(sandbox, root):
    sandbox.files.write_files([WriteEntry(f"{root}/a.cfg", "host=old\nport=1\nold=old\n",
                                          mode=0o640),
                               WriteEntry(f"{root}/b.cfg", "nothing here")])
    results = sandbox.files.replace_contents_detailed([
        ContentReplaceEntry(f"{root}/a.cfg", "old", "new"),
        ContentReplaceEntry(f"{root}/b.cfg", "old", "new")])
    assert results == [ContentReplaceResult(f"{root}/a.cfg", 3),
                       ContentReplaceResult(f"{root}/b.cfg", 0)]
    assert sandbox.files.read_file(f"{root}/a.cfg") == "host=new\nport=1\nnew=new\n"
    assert sh(sandbox, f"stat -c %a {root}/a.cfg") == ["640"]  # mode kept
    assert sandbox.files.replace_contents([ContentReplaceEntry(f"{root}/a.cfg", "port=1",
                                                               "port=2")]) is None
    assert sandbox.files.read_file(f"{root}/a.cfg") == "host=new\nport=2\nnew=new\n"
    with pytest.raises(InvalidArgumentException):
        sandbox.files.replace_contents([ContentReplaceEntry(f"{root}/a.cfg", "", "x")])


def test_files_of_a_paused_sandbox_fail_with_a_precondition(stack):
    with Sandbox.create(IMAGE) as sandbox:
        try:
            sandbox.files.write_file("/tmp/p", "p")
            sandbox.pause()
            with pytest.raises(FailedPreconditionException) as caught:
                sandbox.files.read_file("/tmp/p")
            assert caught.value.code == "SANDBOX::NOT_RUNNING"
        finally:
            sandbox.kill()


def test_async_files_every_operation(stack):
    asyncio.run(_async_files())


async def _async_files():
    async with await AsyncSandbox.create(IMAGE) as sandbox:
        files, root = sandbox.files, "/tmp/async-files"
        await files.create_directories([WriteEntry(f"{root}/sub", mode=0o750)])
        data = os.urandom(200 * 1024 + 7)
        await files.write_files([WriteEntry(f"{root}/big.bin", io.BytesIO(data), mode=0o600),
                                 WriteEntry(f"{root}/sub/a.py", "print('old')\n")])
        await files.write_file(f"{root}/t.txt", "text")

        assert await files.read_bytes(f"{root}/big.bin") == data
        assert await files.read_file(f"{root}/t.txt") == "text"
        assert await files.read_bytes(f"{root}/big.bin", range_header="bytes=5-9") == data[5:10]
        sizes = [len(c) async for c in await files.read_bytes_stream(f"{root}/big.bin",
                                                                     chunk_size=100 * 1024)]
        assert sizes == [100 * 1024, 100 * 1024, 7]
        with pytest.raises(SandboxNotFoundException):
            await files.read_bytes_stream(f"{root}/none")

        infos = await files.get_file_info([f"{root}/big.bin", f"{root}/sub"])
        assert (infos[f"{root}/big.bin"].size, infos[f"{root}/big.bin"].mode) == (
            len(data), 0o600)
        assert (infos[f"{root}/sub"].entry_type, infos[f"{root}/sub"].mode) == (
            "directory", 0o750)
        listed = await files.list_directory(DirectoryListEntry(root, depth=2))
        assert [e.path for e in listed] == [f"{root}/big.bin", f"{root}/sub",
                                            f"{root}/sub/a.py", f"{root}/t.txt"]
        assert [e.path for e in await files.search(SearchEntry(root, "*.py"))] == [
            f"{root}/sub/a.py"]

        results = await files.replace_contents_detailed(
            [ContentReplaceEntry(f"{root}/sub/a.py", "old", "new")])
        assert results == [ContentReplaceResult(f"{root}/sub/a.py", 1)]
        await files.replace_contents([ContentReplaceEntry(f"{root}/sub/a.py", "new", "newer")])
        assert await files.read_file(f"{root}/sub/a.py") == "print('newer')\n"

        await files.set_permissions([SetPermissionEntry(f"{root}/t.txt", mode=0o444)])
        await files.move_files([MoveEntry(f"{root}/t.txt", f"{root}/moved.txt")])
        assert (await files.get_file_info([f"{root}/moved.txt"]))[f"{root}/moved.txt"].mode == \
            0o444
        await files.delete_files([f"{root}/moved.txt"])
        await files.delete_directories([f"{root}/sub"])
        assert [e.path for e in await files.list_directory(root)] == [f"{root}/big.bin"]
        with pytest.raises(SandboxNotFoundException):
            await files.get_file_info([f"{root}/moved.txt"])
        await sandbox.kill()
