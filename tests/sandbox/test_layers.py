"""Unit tests of the isolation building blocks: seccomp program, Landlock paths, tiers."""

from __future__ import annotations

import os
import struct
import sysconfig
from pathlib import Path

import pytest

from python_env.errors import ConfigError
from python_env.sandbox import confine, isolation, landlock, seccomp


@pytest.mark.parametrize("arch", sorted(seccomp.SYSCALLS))
def test_seccomp_program_is_well_formed(arch: str) -> None:
    program = seccomp.build_filter(arch)
    assert len(program) % 8 == 0 and 10 < len(program) // 8 < 256
    instructions = [struct.unpack("<HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    assert instructions[0] == (0x20, 0, 0, 4)  # load the architecture first
    assert instructions[1][3] == seccomp.AUDIT_ARCH[arch]
    returns = {k for code, _, _, k in instructions if code == 0x06}
    assert returns == {seccomp.RET_ALLOW, seccomp.RET_KILL_PROCESS,
                       seccomp.RET_ERRNO | 1, seccomp.RET_ERRNO | 38}  # fmt: skip
    for index, (code, jt, jf, _) in enumerate(instructions):
        if code & 0x07 == 0x05:  # a jump: both targets inside the program
            assert index + 1 + max(jt, jf) < len(instructions)
    denied = {k for code, jt, _, k in instructions if code == 0x15 and jt}
    assert seccomp.SYSCALLS[arch]["socket"] in denied
    assert seccomp.SYSCALLS[arch]["ptrace"] in denied


def test_seccomp_refuses_unknown_architectures() -> None:
    with pytest.raises(OSError):
        seccomp.build_filter("sparc64")


def test_seccomp_filter_in_a_child() -> None:
    filt = seccomp.Filter(seccomp.build_filter())

    def check() -> str:
        import socket

        filt.install()
        socket.socketpair()[0].close()  # still allowed: multiprocessing and asyncio need it
        try:
            socket.socket(socket.AF_UNIX)
        except PermissionError:
            return "refused"
        return "allowed"

    ok, detail = confine.in_child(check)
    assert ok and detail == "refused"


def _syscalls_in_a_child(deny_metadata: bool, tmp_path: Path) -> dict[str, str]:
    """Which calls a child under the filter may make on itself, its parent and host files."""
    import json
    import resource

    filt = seccomp.Filter(seccomp.build_filter(deny_metadata=deny_metadata))
    target = tmp_path / "file"
    target.write_text("x")

    def check() -> str:
        parent = os.getppid()
        fd = os.open(target, os.O_RDWR)
        calls = {
            "prlimit-self": lambda: resource.prlimit(0, resource.RLIMIT_CORE, (0, 0)),
            "setrlimit-self": lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)),
            "prlimit-parent": lambda: resource.prlimit(parent, resource.RLIMIT_CORE),
            "nice-self": lambda: os.nice(0),
            "renice-parent": lambda: os.setpriority(os.PRIO_PROCESS, parent, 0),
            "renice-user": lambda: os.setpriority(os.PRIO_USER, 0, 19),
            "renice-group": lambda: os.setpriority(os.PRIO_PGRP, 0, 19),
            "affinity-self": lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)),
            "affinity-parent": lambda: os.sched_setaffinity(parent, os.sched_getaffinity(0)),
            "chmod-path": lambda: os.chmod(target, 0o644),
            "utime-path": lambda: os.utime(target, (1, 1)),
            "xattr-path": lambda: os.setxattr(target, "user.x", b"1"),
            "fchmod": lambda: os.fchmod(fd, 0o644),
            "futimens": lambda: os.utime(fd, (1, 1)),
        }
        filt.install()
        results = {}
        for name, call in calls.items():
            try:
                call()
                results[name] = "ok"
            except OSError as exc:
                results[name] = os.strerror(exc.errno or 0)
        return json.dumps(results)

    ok, detail = confine.in_child(check)
    assert ok, detail
    return dict(json.loads(detail))


def test_seccomp_lets_pid_calls_reach_only_the_caller(tmp_path: Path) -> None:
    """Red-team findings 4 and 5: a job lowered its worker's limits and the server's."""
    results = _syscalls_in_a_child(False, tmp_path)
    refused = os.strerror(1)
    for own in ("prlimit-self", "setrlimit-self", "nice-self", "affinity-self"):
        assert results[own] == "ok", results
    for other in ("prlimit-parent", "renice-parent", "renice-user", "renice-group",
                  "affinity-parent"):  # fmt: skip
        assert results[other] == refused, results
    assert results["chmod-path"] == results["utime-path"] == "ok"  # a spare uid guards those


def test_seccomp_metadata_variant_refuses_path_based_changes(tmp_path: Path) -> None:
    """Red-team finding 2, for jobs that must share the worker's uid."""
    results = _syscalls_in_a_child(True, tmp_path)
    refused = os.strerror(1)
    assert results["chmod-path"] == results["utime-path"] == results["xattr-path"] == refused
    assert results["fchmod"] == results["futimens"] == "ok"  # on descriptors Landlock granted


def test_expand_allowed_carves_out_denied_paths(tmp_path: Path) -> None:
    for sub in ("lib/json", "lib/site-packages/python_env/data", "lib/site-packages/other", "bin"):
        (tmp_path / sub).mkdir(parents=True)
    (tmp_path / "lib" / "os.py").write_text("")
    allowed = landlock.expand_allowed(
        [str(tmp_path)], [str(tmp_path / "lib/site-packages/python_env")]
    )
    assert str(tmp_path / "bin") in allowed and str(tmp_path / "lib" / "os.py") in allowed
    assert str(tmp_path / "lib/site-packages/other") in allowed
    assert not [p for p in allowed if "python_env" in p]
    assert str(tmp_path) not in allowed and str(tmp_path / "lib") not in allowed


def test_expand_allowed_drops_roots_inside_denied_paths(tmp_path: Path) -> None:
    (tmp_path / "secret" / "inner").mkdir(parents=True)
    assert (
        landlock.expand_allowed([str(tmp_path / "secret" / "inner")], [str(tmp_path / "secret")])
        == []
    )


def test_landlock_abi_and_access_masks() -> None:
    abi = landlock.abi_version()
    if abi == 0:
        pytest.skip("no Landlock on this kernel: the fallback tier's chroot covers it")
    assert landlock.fs_access(abi) & landlock.READ_FILE
    assert landlock.fs_access(1) == (1 << 13) - 1 and landlock.fs_access(7) == (1 << 16) - 1


def test_denied_paths_hide_the_package_but_never_the_stdlib() -> None:
    denied = isolation.denied_paths()
    assert str(isolation.PACKAGE_DIR) in denied
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    assert not [d for d in denied if stdlib == d or stdlib.startswith(d + "/")]


def test_tier_selection() -> None:
    assert isolation.requested_tier() == "auto"
    assert isolation.candidate_tiers("auto") == ["bwrap", "native", "fallback"]
    assert isolation.requested_tier("Fallback") == "fallback"
    assert isolation.candidate_tiers("fallback") == ["fallback"]
    with pytest.raises(ConfigError):
        isolation.requested_tier("docker")


def test_bwrap_can_be_declared_absent() -> None:
    path, why = isolation.bwrap_binary("0")
    assert path is None and "disabled" in why
    path, why = isolation.bwrap_binary("/nonexistent/bwrap")
    assert path is None and "not installed" in why


def test_bwrap_command_hides_secrets() -> None:
    command = isolation.bwrap_command(
        "bwrap", "/tmp/scratch", "/tmp/scratch/slot-0-1", "/tmp/scratch/code", []
    )
    assert command[-1] == "--"
    # Only the worker's own slot is writable; the scratch root (and the host) are read-only.
    binds = [(command[i], command[i + 1]) for i, arg in enumerate(command[:-1]) if "bind" in arg]
    assert ("--ro-bind", "/tmp/scratch") in binds and ("--bind", "/tmp/scratch/slot-0-1") in binds
    assert ("--bind", "/tmp/scratch") not in binds
    tmpfs = {command[i + 1] for i, arg in enumerate(command) if arg == "--tmpfs"}
    assert str(isolation.PACKAGE_DIR) in tmpfs or any(
        str(isolation.PACKAGE_DIR).startswith(t + "/") for t in tmpfs
    )
    assert "--unshare-net" in command and "--unshare-pid" in command
    if os.path.exists("/etc/shadow"):
        assert command[command.index("/etc/shadow") - 1] == "/dev/null"
