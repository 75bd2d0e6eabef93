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


def test_tier_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(isolation.TIER_ENV, raising=False)
    assert isolation.requested_tier() == "auto"
    assert isolation.candidate_tiers("auto") == ["bwrap", "native", "fallback"]
    monkeypatch.setenv(isolation.TIER_ENV, "Fallback")
    assert isolation.requested_tier() == "fallback"
    assert isolation.candidate_tiers("fallback") == ["fallback"]
    monkeypatch.setenv(isolation.TIER_ENV, "docker")
    with pytest.raises(ConfigError):
        isolation.requested_tier()


def test_bwrap_can_be_declared_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(isolation.BWRAP_ENV, "0")
    path, why = isolation.bwrap_binary()
    assert path is None and "disabled" in why
    monkeypatch.setenv(isolation.BWRAP_ENV, "/nonexistent/bwrap")
    path, why = isolation.bwrap_binary()
    assert path is None and "not installed" in why


def test_bwrap_command_hides_secrets() -> None:
    command = isolation.bwrap_command("bwrap", "/tmp/scratch", "/tmp/scratch/code", [], 0)
    assert command[-1] == "--"
    tmpfs = {command[i + 1] for i, arg in enumerate(command) if arg == "--tmpfs"}
    assert str(isolation.PACKAGE_DIR) in tmpfs or any(
        str(isolation.PACKAGE_DIR).startswith(t + "/") for t in tmpfs
    )
    assert "--unshare-net" in command and "--unshare-pid" in command
    if os.path.exists("/etc/shadow"):
        assert command[command.index("/etc/shadow") - 1] == "/dev/null"
