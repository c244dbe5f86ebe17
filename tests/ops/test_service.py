"""memos install-service / uninstall-service: the unit a self-hoster gets, written under a temporary root
prefix or only printed (--dry-run); no real systemctl or useradd runs here."""
from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from memos.cli import main

HARDENING = (
    "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "LimitNOFILE=65536",
    "Restart=on-failure", "StateDirectory=memos", "CacheDirectory=memos", "Environment=SHIV_ROOT=/var/cache/memos",
    "User=memos", "CapabilityBoundingSet=",
)


@pytest.fixture
def pyz(tmp_path: Path) -> Path:
    path = tmp_path / "memos.pyz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__main__.py", "print('memos')\n")
    return path


def _unit_lines(text: str) -> list[str]:
    return text.splitlines()


def test_dry_run_prints_a_hardened_unit_behind_a_proxy_and_changes_nothing(
    pyz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted(tmp_path.rglob("*"))
    status = main(["install-service", "--pyz", str(pyz), "--python", "/usr/bin/python3", "--dry-run",
                   "--behind-proxy", "--instance-url", "https://notes.example.com/"])
    out = capsys.readouterr().out
    assert status == 0
    lines = _unit_lines(out)
    assert ("ExecStart=/usr/bin/python3 /opt/memos/memos.pyz --data /var/lib/memos --port 8081 --addr 127.0.0.1 "
            "--instance-url https://notes.example.com --trusted-proxies 127.0.0.0/8,::1") in lines
    assert set(HARDENING) <= set(lines)
    assert "would systemctl enable --now memos.service" in lines
    assert "uninstall-service" in out and "journalctl -u memos" in out
    assert sorted(tmp_path.rglob("*")) == before


def test_root_prefix_writes_the_unit_and_the_binary_and_only_prints_commands(
    pyz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    status = main(["install-service", "--pyz", str(pyz), "--python", "/usr/bin/python3", "--root", str(root),
                   "--no-start"])
    out = capsys.readouterr().out
    assert status == 0, out
    unit = root / "etc/systemd/system/memos.service"
    binary = root / "opt/memos/memos.pyz"
    assert binary.read_bytes() == pyz.read_bytes() and binary.stat().st_mode & 0o777 == 0o755
    assert unit.stat().st_mode & 0o777 == 0o644
    lines = _unit_lines(unit.read_text())
    # No proxy named: every interface, memos's own trusted-proxy default.
    assert "ExecStart=/usr/bin/python3 /opt/memos/memos.pyz --data /var/lib/memos --port 8081" in lines
    assert set(HARDENING) <= set(lines)
    assert "would systemctl enable memos.service" in out.splitlines()
    assert "done: write /etc/systemd/system/memos.service" in out.splitlines()
    if shutil.which("systemd-analyze"):
        verified = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
        assert (verified.returncode, verified.stderr) == (0, ""), verified.stderr


def test_reinstalling_keeps_the_replaced_binary_and_uninstalling_keeps_the_data(
    pyz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    main(["install-service", "--pyz", str(pyz), "--root", str(root), "--python", "/usr/bin/python3"])
    newer = tmp_path / "newer.pyz"
    with zipfile.ZipFile(newer, "w") as archive:
        archive.writestr("__main__.py", "print('memos, newer')\n")
    main(["install-service", "--pyz", str(newer), "--root", str(root), "--python", "/usr/bin/python3"])
    binary = root / "opt/memos/memos.pyz"
    assert binary.read_bytes() == newer.read_bytes()
    assert binary.with_name("memos.pyz.previous").read_bytes() == pyz.read_bytes()
    database = root / "var/lib/memos/memos_prod.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"notes")
    capsys.readouterr()
    assert main(["uninstall-service", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert not (root / "etc/systemd/system/memos.service").exists()
    assert not list((root / "opt/memos").iterdir())
    assert database.read_bytes() == b"notes"
    assert "would systemctl disable --now memos.service" in out.splitlines() and "Kept:" in out


def test_a_data_directory_elsewhere_is_made_writable_and_a_low_port_gets_its_capability(
    pyz: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["install-service", "--pyz", str(pyz), "--dry-run", "--python", "/usr/bin/python3",
                   "--data", "/srv/memos", "--port", "80",
                   "--addr", "0.0.0.0"])
    lines = _unit_lines(capsys.readouterr().out)
    assert status == 0
    assert "ReadWritePaths=/srv/memos" in lines and not [line for line in lines if line.startswith("StateDirectory")]
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in lines
    assert "would create /srv/memos owned by memos" in lines


@pytest.mark.parametrize(
    ("option", "value", "complaint"),
    [
        ("--instance-url", "ftp://notes.example.com", "--instance-url must be an http(s) URL"),
        ("--instance-url", "https://notes.example.com/a b", "--instance-url must be an http(s) URL"),
        ("--data", "var/lib/memos", "--data must be an absolute path"),
        ("--data", "/var/lib/../../etc", "--data must be an absolute path"),
        ("--port", "0", "--port must be 1-65535"),
        ("--name", "Memos Notes", "--name and --user must be lower-case system names"),
        ("--addr", "0.0.0.0 --demo", "--addr must be an IP address"),
        ("--python", "/home/bob/.pyenv/versions/3.11.7/bin/python3.11", "lies in a home directory"),
        ("--python", "/home/ada/venv/bin/python", "lies in a home directory"),
    ],
)
def test_bad_settings_are_one_line_and_change_nothing(
    pyz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, complaint: str
) -> None:
    root = tmp_path / "root"
    status = main(["install-service", "--pyz", str(pyz), "--root", str(root), "--python", "/usr/bin/python3",
                   option, value])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("memos install-service: ") and complaint in err and err.count("\n") == 1
    assert not root.exists()


def test_a_file_that_is_not_a_pyz_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an archive")
    assert main(["install-service", "--pyz", str(text), "--dry-run"]) == 1
    assert "name the file to install with --pyz" in capsys.readouterr().err
