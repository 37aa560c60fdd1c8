"""The local node's two images, built from the machine's packages (never pulled, never committed).

``python3 secrets_platform/localcluster/node/images.py --out build/cluster`` (make toolchain) writes two docker-archive
tarballs (the format ``docker save`` writes and ``ctr images import`` reads):

- ``pause-image.tar`` (:data:`SANDBOX_IMAGE`): the pod sandbox, our ``pause.c``
  compiled static with the machine's gcc; nothing else in it.
- ``busybox-image.tar`` (:data:`WORKLOAD_IMAGE`): Debian's ``busybox-static`` with a
  link per applet, an ``/etc/passwd`` with a non-root user (uid 10001) that the
  image runs as, and a world-writable ``/tmp``: what a restricted test workload needs.

Layers are written deterministically (fixed owners and mtimes), so the same packages give
the same image IDs. Exit codes: 0 written, 2 a missing tool (the message names the package).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SANDBOX_IMAGE = "localhost/secrets-platform/pause:local"
WORKLOAD_IMAGE = "localhost/secrets-platform/busybox:local"
SANDBOX_TAR = "pause-image.tar"
WORKLOAD_TAR = "busybox-image.tar"
WORKLOAD_UID = 10001
SANDBOX_UID = 65535
PAUSE_SOURCE = Path(__file__).with_name("pause.c")
BUSYBOX = Path("/bin/busybox")
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ImageError(RuntimeError):
    """A tool or package the build needs is missing; the message names the fix."""


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def _is_static(path: Path) -> bool:
    """An ELF executable without a program interpreter (PT_INTERP): it needs no dynamic loader."""
    import struct

    data = path.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2:  # 64-bit ELF only
        return False
    endian = "<" if data[5] == 1 else ">"
    phoff, phentsize, phnum = struct.unpack_from(endian + "Q", data, 32)[0], *struct.unpack_from(endian + "HH", data, 54)
    return all(struct.unpack_from(endian + "I", data, phoff + i * phentsize)[0] != 3 for i in range(phnum))


class _Layer:
    """One uncompressed, reproducible layer tar."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name: str, kind: bytes, mode: int, uid: int = 0) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.uid, info.gid, info.mtime = kind, mode, uid, uid, 0
        return info

    def dir(self, name: str, mode: int = 0o755, uid: int = 0) -> None:
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, uid))

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def link(self, name: str, target: str) -> None:
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def close(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def _write_archive(out: Path, ref: str, layer: bytes, config: dict) -> None:
    """A docker-archive: manifest.json, the image config and one layer; written atomically."""
    diff_id = hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": _arch(),
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "secrets_platform/localcluster/node/images.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [ref], "Layers": [f"{diff_id}/layer.tar"]}]
    tmp = out.with_name(out.name + ".tmp")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            (f"{diff_id}/layer.tar", layer),
            (config_name, config_bytes),
            ("manifest.json", json.dumps(manifest).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    os.replace(tmp, out)


def build_sandbox(out: Path) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise ImageError("gcc is missing (it compiles the pod sandbox's pause binary): apt-get install gcc libc6-dev")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "pause"
        done = subprocess.run(
            [gcc, "-static", "-Os", "-s", "-Wall", "-Werror", "-o", str(binary), str(PAUSE_SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ImageError(
                f"gcc could not build {PAUSE_SOURCE.name} static ({done.stderr.strip()[-300:]}): "
                "apt-get install libc6-dev (static glibc), then run this again"
            )
        layer = _Layer()
        layer.file("pause", binary.read_bytes(), 0o755)
        _write_archive(
            out, SANDBOX_IMAGE, layer.close(), {"Entrypoint": ["/pause"], "User": f"{SANDBOX_UID}:{SANDBOX_UID}", "Env": [PATH_ENV]}
        )


def build_workload(out: Path, busybox: Path = BUSYBOX) -> None:
    if not busybox.exists() or not _is_static(busybox):
        raise ImageError(
            f"{busybox} is missing or not a static binary (the local workload image is made of it): "
            "apt-get install busybox-static, then run this again"
        )
    listed = subprocess.run([str(busybox), "--list-full"], capture_output=True, text=True, check=True).stdout.split()
    layer = _Layer()
    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "home", "proc", "sys", "dev", "run", "var"):
        layer.dir(d)
    layer.dir("home/app", 0o755, WORKLOAD_UID)
    layer.dir("tmp", 0o1777)
    layer.file("bin/busybox", busybox.read_bytes(), 0o755)
    for applet in sorted(set(listed)):
        if applet != "bin/busybox" and "/" in applet and not applet.startswith("/"):
            layer.link(applet, "/bin/busybox")
    uid = WORKLOAD_UID
    layer.file("etc/passwd", f"root:x:0:0:root:/root:/bin/sh\napp:x:{uid}:{uid}:app:/home/app:/bin/sh\n".encode())
    layer.file("etc/group", f"root:x:0:\napp:x:{uid}:\n".encode())
    _write_archive(
        out,
        WORKLOAD_IMAGE,
        layer.close(),
        {"Cmd": ["sh"], "User": f"{uid}:{uid}", "Env": [PATH_ENV, "HOME=/home/app"], "WorkingDir": "/home/app"},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secrets_platform.localcluster.node.images", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the two image tarballs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        build_sandbox(args.out / SANDBOX_TAR)
        build_workload(args.out / WORKLOAD_TAR)
    except ImageError as err:
        print(f"local node images: {err}", file=sys.stderr)
        return 2
    print(f"local node images: {SANDBOX_IMAGE} and {WORKLOAD_IMAGE} written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
