"""Builds the gRPC stubs of proto/opensandbox/v1 into the package (osb._proto) at build time.

The stubs are generated, not committed: the .proto files are the one contract, so a wheel built
from any checkout matches that checkout's API. The proto root is ../../proto (this package lives
in client/python of the repository) unless OSB_PROTO_DIR names another.
"""

import os
import pathlib
import re

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


def generate_stubs(out_dir: pathlib.Path) -> None:
    import grpc_tools
    from grpc_tools import protoc

    proto_root = pathlib.Path(os.environ.get("OSB_PROTO_DIR", HERE.parent.parent / "proto"))
    protos = sorted(str(p.relative_to(proto_root)) for p in proto_root.glob("opensandbox/v1/*.proto"))
    if not protos:
        raise RuntimeError(f"no opensandbox/v1/*.proto under {proto_root}; set OSB_PROTO_DIR")
    out_dir.mkdir(parents=True, exist_ok=True)
    well_known = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    args = ["grpc_tools.protoc", f"-I{proto_root}", f"-I{well_known}", f"--python_out={out_dir}",
            f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}", *protos]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on " + " ".join(protos))
    # protoc writes absolute imports ("from opensandbox.v1 import common_pb2"), which would
    # collide with the official SDK's `opensandbox` package: point them into osb._proto.
    for path in out_dir.rglob("*.py*"):
        text = path.read_text()
        fixed = re.sub(r"^from opensandbox\.v1 import", "from osb._proto.opensandbox.v1 import",
                       text, flags=re.MULTILINE)
        if fixed != text:
            path.write_text(fixed)
    for package in (out_dir, out_dir / "opensandbox", out_dir / "opensandbox" / "v1"):
        (package / "__init__.py").touch()


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        generate_stubs(pathlib.Path(self.build_lib) / "osb" / "_proto")


setup(cmdclass={"build_py": BuildWithStubs})
