"""Build hook: compile extauthz/_wire/*.proto with grpcio-tools' protoc.

The generated *_pb2.py modules land beside the .proto files in the source tree,
so wheels, sdists and editable installs all carry them; they are not committed.
`python setup.py gen_proto` runs the same step by hand.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WIRE = ROOT / "extauthz" / "_wire"


def compile_protos() -> None:
    import grpc_tools
    from grpc_tools import protoc

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    for proto in sorted(WIRE.glob("*.proto")):
        args = [
            "protoc",
            f"-I{ROOT}",
            f"-I{well_known}",
            f"--python_out={ROOT}",
            f"--pyi_out={ROOT}",
            str(proto.relative_to(ROOT)),
        ]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed on {proto}")


class GenProto(Command):
    description = "compile extauthz/_wire/*.proto"
    user_options: list = []

    def initialize_options(self) -> None:
        pass

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        compile_protos()


class BuildPyWithProto(build_py):
    """Compile the protos, and ship envoy/ and examples/ inside the package
    (extauthz/_assets) so an installed `extauthz demo` finds the same files."""

    def run(self) -> None:
        compile_protos()
        super().run()
        if not getattr(self, "editable_mode", False):
            for name in ("envoy", "examples"):
                src = ROOT / name
                if src.is_dir():
                    shutil.copytree(src, Path(self.build_lib) / "extauthz" / "_assets" / name,
                                    dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildPyWithProto, "gen_proto": GenProto})
