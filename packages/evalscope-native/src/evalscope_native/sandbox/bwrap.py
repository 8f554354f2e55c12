"""Building the bubblewrap command line, and finding out once whether bubblewrap works here.

The sandbox sees: a read-only /usr (+ the /lib, /bin links), the read-only Python installation
(``sys.prefix`` of our venv and its base interpreter), a few harmless /etc files, a fresh /proc
and /dev, and a private size-limited tmpfs at /tmp, the only writable place. Everything else --
the user's home, the repository, the host's /tmp, /etc/shadow -- simply does not exist in it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

WORKDIR = "/tmp"
FIX_HINT = (
    "install bubblewrap (`sudo apt-get install -y bubblewrap`, or ./scripts/install.sh) and make sure "
    "unprivileged user namespaces are enabled (`sudo sysctl -w kernel.unprivileged_userns_clone=1`, "
    "and on Ubuntu 24.04+ `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`); or accept "
    "the weaker, non-isolating mode explicitly with allow_weak=True / EVALSCOPE_SANDBOX=weak "
    "(see docs/sandbox.md)"
)
# Read-only system files Python may look at; never /etc/passwd's secret sibling /etc/shadow.
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/nsswitch.conf", "/etc/passwd", "/etc/group")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces on this machine."""


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def python_roots() -> list[str]:
    """Directories holding the interpreter we run: the venv and the installation it points to."""
    roots: list[str] = []
    candidates = [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        str(Path(sys.executable).resolve().parents[1]),
    ]
    for raw in candidates:
        path = os.path.realpath(raw)
        if path in ("/", "/usr") or any(path == r or path.startswith(r + "/") for r in roots):
            continue
        roots = [r for r in roots if not r.startswith(path + "/")] + [path]
    # The venv path itself may be a symlink: bind the spelling sys.executable uses too.
    for raw in (sys.prefix, sys.base_prefix):
        if raw not in roots and os.path.realpath(raw) != raw and not raw.startswith("/usr/"):
            roots.append(raw)
    return roots


def _system_dirs() -> list[str]:
    args: list[str] = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC_FILES:
        if os.path.exists(name):
            args += ["--ro-bind", name, name]
    return args


def is_root() -> bool:
    return os.geteuid() == 0


def build_command(python_args: list[str], tmpfs_mb: int) -> list[str]:
    """The full ``bwrap ... python ...`` argv for one run.

    As an ordinary user bwrap creates a user namespace (and forbids nested ones). As root it runs
    in privileged mode without one: it keeps only CAP_SETUID/CAP_SETGID so the launcher can drop
    to a fresh uid, because the kernel exempts uid 0 from RLIMIT_NPROC (no fork-bomb limit).
    """
    exe = bwrap_path()
    if exe is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) not found on PATH: {FIX_HINT}")
    args = [exe, "--die-with-parent", "--new-session"]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if is_root():
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user", "--disable-userns"]
    args += ["--hostname", "sandbox", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin"]
    args += _system_dirs()
    # The private /tmp comes before the interpreter's binds: a checkout or venv that lives under /tmp
    # (CI clones often do) is then bound on top of the tmpfs instead of being hidden by it.
    args += ["--size", str(tmpfs_mb * 1024 * 1024), "--perms", "0700", "--tmpfs", WORKDIR]
    roots = python_roots()
    # bwrap copies the host's mode onto the directories it creates for mount points (/root is
    # 0700); make them traversable so a dropped uid can still reach the bound interpreter.
    parents = sorted({str(p) for root in roots for p in Path(root).parents if str(p) != "/"}, key=len)
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    for root in roots:
        args += ["--ro-bind", root, root]
    args += ["--proc", "/proc", "--dev", "/dev"]
    # Everything but /tmp read-only, including the directories bwrap made for its mount points.
    args += ["--remount-ro", "/", "--chdir", WORKDIR]
    return args + python_args


@functools.lru_cache(maxsize=1)
def probe() -> str | None:
    """None when bubblewrap works here, else why not (cached for the process)."""
    if bwrap_path() is None:
        return f"bubblewrap (`bwrap`) not found on PATH: {FIX_HINT}"
    cmd = build_command([sys.executable, "-I", "-S", "-c", "pass"], tmpfs_mb=1)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30, stdin=subprocess.DEVNULL, env={})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap failed to start ({exc}): {FIX_HINT}"
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        return f"bubblewrap cannot create its sandbox here ({err or proc.returncode}): {FIX_HINT}"
    return None
