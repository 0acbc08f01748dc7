"""Files through the official Python SDK: write and read back, modes and owners, directories,
list, search, info, move, delete, replace and Range reads (COMPAT.md §2.6, §3.1)."""

from __future__ import annotations

import os

import pytest
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.filesystem import (
    ContentReplaceEntry,
    DirectoryListEntry,
    MoveEntry,
    SearchEntry,
    SetPermissionEntry,
    WriteEntry,
)


@pytest.fixture
def root(sandbox, request):
    """A fresh directory per test, so tests do not see each other's files."""
    path = f"/tmp/files-{request.node.name.replace('[', '-').replace(']', '')}"
    sandbox.files.create_directories([WriteEntry(path=path, mode=755)])
    yield path
    sandbox.files.delete_directories([path])


def test_text_round_trip(sandbox, root):
    text = "hello\nwörld ✓\n"
    sandbox.files.write_file(f"{root}/a.txt", text)
    assert sandbox.files.read_file(f"{root}/a.txt") == text
    # What the SDK wrote is what a program in the sandbox reads.
    run = sandbox.commands.run(f"cat {root}/a.txt")
    assert [m.text for m in run.logs.stdout] == ["hello", "wörld ✓"]


def test_binary_and_large_round_trip(sandbox, root):
    every_byte = bytes(range(256)) * 4
    sandbox.files.write_file(f"{root}/bytes.bin", every_byte)
    assert sandbox.files.read_bytes(f"{root}/bytes.bin") == every_byte

    big = os.urandom(3 * 1024 * 1024 + 17)
    sandbox.files.write_file(f"{root}/big.bin", big)
    assert sandbox.files.read_bytes(f"{root}/big.bin") == big
    streamed = b"".join(sandbox.files.read_bytes_stream(f"{root}/big.bin",
                                                        chunk_size=64 * 1024))
    assert streamed == big
    assert sandbox.files.get_file_info([f"{root}/big.bin"])[f"{root}/big.bin"].size == len(big)


def test_write_files_several_in_one_call_creates_parents(sandbox, root):
    sandbox.files.write_files([
        WriteEntry(path=f"{root}/x/one.txt", data="one", mode=644),
        WriteEntry(path=f"{root}/y/z/two.txt", data=b"two", mode=600),
    ])
    assert sandbox.files.read_file(f"{root}/x/one.txt") == "one"
    assert sandbox.files.read_file(f"{root}/y/z/two.txt") == "two"
    info = sandbox.files.get_file_info([f"{root}/x/one.txt", f"{root}/y/z/two.txt"])
    assert info[f"{root}/x/one.txt"].mode == 644
    assert info[f"{root}/y/z/two.txt"].mode == 600


def test_overwrite_replaces_the_whole_file(sandbox, root):
    sandbox.files.write_file(f"{root}/o.txt", "a much longer first version\n")
    sandbox.files.write_file(f"{root}/o.txt", "short\n")
    assert sandbox.files.read_file(f"{root}/o.txt") == "short\n"


def test_modes_and_owners(sandbox, root):
    path = f"{root}/owned.txt"
    sandbox.files.write_file(path, "data", mode=640, owner="nobody", group="nogroup")
    info = sandbox.files.get_file_info([path])[path]
    assert info.path == path
    assert info.entry_type == "file"
    assert info.mode == 640
    assert info.owner == "nobody"
    assert info.group == "nogroup"
    assert info.size == 4
    run = sandbox.commands.run(f"stat -c '%a %U %G' {path}")
    assert [m.text for m in run.logs.stdout] == ["640 nobody nogroup"]

    sandbox.files.set_permissions([SetPermissionEntry(path=path, mode=600, owner="root",
                                                      group="root")])
    info = sandbox.files.get_file_info([path])[path]
    assert (info.mode, info.owner, info.group) == (600, "root", "root")
    # The SDK's default mode for write_file is 755.
    sandbox.files.write_file(f"{root}/default.sh", "#!/bin/sh\necho ran\n")
    assert sandbox.files.get_file_info([f"{root}/default.sh"])[f"{root}/default.sh"].mode == 755
    run = sandbox.commands.run(f"{root}/default.sh")
    assert [m.text for m in run.logs.stdout] == ["ran"]


def test_directories_list_and_info(sandbox, root):
    sandbox.files.create_directories([WriteEntry(path=f"{root}/d/sub/deeper", mode=700)])
    sandbox.files.write_files([
        WriteEntry(path=f"{root}/d/a.py", data="print(1)\n"),
        WriteEntry(path=f"{root}/d/sub/b.py", data="print(2)\n"),
        WriteEntry(path=f"{root}/d/sub/notes.txt", data="n"),
    ])
    info = sandbox.files.get_file_info([f"{root}/d/sub/deeper"])[f"{root}/d/sub/deeper"]
    assert info.entry_type == "directory"
    assert info.mode == 700

    one = sandbox.files.list_directory(DirectoryListEntry(path=f"{root}/d", depth=1))
    assert {e.path: e.entry_type for e in one} == {
        f"{root}/d/a.py": "file", f"{root}/d/sub": "directory"}
    two = sandbox.files.list_directory(DirectoryListEntry(path=f"{root}/d", depth=2))
    assert {e.path for e in two} == {
        f"{root}/d/a.py", f"{root}/d/sub", f"{root}/d/sub/b.py", f"{root}/d/sub/notes.txt",
        f"{root}/d/sub/deeper"}

    # Search walks the tree, matches base names, and never returns directories.
    found = sandbox.files.search(SearchEntry(path=f"{root}/d", pattern="*.py"))
    assert sorted(e.path for e in found) == [f"{root}/d/a.py", f"{root}/d/sub/b.py"]
    everything = sandbox.files.search(SearchEntry(path=f"{root}/d", pattern="*"))
    assert sorted(e.path for e in everything) == [
        f"{root}/d/a.py", f"{root}/d/sub/b.py", f"{root}/d/sub/notes.txt"]


def test_move(sandbox, root):
    sandbox.files.write_file(f"{root}/src.txt", "moving")
    sandbox.files.move_files([MoveEntry(src=f"{root}/src.txt", dest=f"{root}/new/dst.txt")])
    assert sandbox.files.read_file(f"{root}/new/dst.txt") == "moving"
    with pytest.raises(SandboxApiException) as e:
        sandbox.files.get_file_info([f"{root}/src.txt"])
    assert e.value.status_code == 404


def test_delete_files_and_directories(sandbox, root):
    sandbox.files.write_files([WriteEntry(path=f"{root}/gone.txt", data="x"),
                               WriteEntry(path=f"{root}/tree/a/b.txt", data="y")])
    sandbox.files.delete_files([f"{root}/gone.txt"])
    with pytest.raises(SandboxApiException) as e:
        sandbox.files.read_file(f"{root}/gone.txt")
    assert e.value.status_code == 404
    sandbox.files.delete_directories([f"{root}/tree"])
    assert sandbox.files.list_directory(DirectoryListEntry(path=root, depth=1)) == []


def test_replace_contents(sandbox, root):
    path = f"{root}/r.txt"
    sandbox.files.write_file(path, "cat dog cat\nbird\n", mode=640)
    sandbox.files.replace_contents([ContentReplaceEntry(path=path, old_content="cat",
                                                        new_content="cow")])
    assert sandbox.files.read_file(path) == "cow dog cow\nbird\n"
    # The file keeps its mode.
    assert sandbox.files.get_file_info([path])[path].mode == 640
    results = sandbox.files.replace_contents_detailed([
        ContentReplaceEntry(path=path, old_content="cow", new_content="ox"),
    ])
    assert [(r.path, r.replaced_count) for r in results] == [(path, 2)]
    assert sandbox.files.read_file(path) == "ox dog ox\nbird\n"
    results = sandbox.files.replace_contents_detailed([
        ContentReplaceEntry(path=path, old_content="absent", new_content="x"),
    ])
    assert [(r.path, r.replaced_count) for r in results] == [(path, 0)]


def test_range_reads(sandbox, root):
    path = f"{root}/digits.txt"
    sandbox.files.write_file(path, "0123456789abcdefghij")
    assert sandbox.files.read_file(path, range_header="bytes=0-9") == "0123456789"
    assert sandbox.files.read_file(path, range_header="bytes=15-") == "fghij"
    assert sandbox.files.read_file(path, range_header="bytes=-3") == "hij"
    assert sandbox.files.read_bytes(path, range_header="bytes=10-12") == b"abc"
    chunks = sandbox.files.read_bytes_stream(path, range_header="bytes=5-9")
    assert b"".join(chunks) == b"56789"


def test_line_reads(sandbox, root):
    path = f"{root}/poem.txt"
    sandbox.files.write_file(path, "one\ntwo\nthree\nfour")
    assert sandbox.files.read_file(path, offset=2, limit=2) == "two\nthree\n"
    assert sandbox.files.read_file(path, offset=4) == "four"
    assert sandbox.files.read_bytes(path, limit=1) == b"one\n"


def test_missing_files_are_rejected(sandbox, root):
    with pytest.raises(SandboxApiException) as e:
        sandbox.files.read_file(f"{root}/absent.txt")
    assert e.value.status_code == 404
    with pytest.raises(SandboxApiException) as e:
        sandbox.files.get_file_info([f"{root}/absent.txt"])
    assert e.value.status_code == 404
    with pytest.raises(SandboxApiException):
        sandbox.files.search(SearchEntry(path=f"{root}/absent", pattern="*"))
    with pytest.raises(SandboxApiException):
        sandbox.files.move_files([MoveEntry(src=f"{root}/absent.txt", dest=f"{root}/b.txt")])
