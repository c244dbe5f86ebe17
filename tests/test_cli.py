"""The memos command: flag > MEMOS_* variable > default, data directory rules, bad values."""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import free_port

import memos
from memos.cli import FLAGS, KeyValueFormatter, main, resolve_profile

ROOT = Path(__file__).resolve().parents[1]


def resolve(tmp_path: Path, *argv: str, **environ: str):
    """Resolve with a data dir in tmp_path unless the test gives one itself."""
    args = list(argv)
    if not any(a.startswith("--data") for a in args) and "MEMOS_DATA" not in environ:
        args += ["--data", str(tmp_path / "data")]
    return resolve_profile(args, environ, default_data_dir=str(tmp_path / "no-such-system-dir"))


def run_main(capsys, monkeypatch, argv: list[str], **environ: str) -> tuple[int, str, str]:
    for name in [n for n in os.environ if n.startswith("MEMOS_")]:
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# --- precedence and defaults -------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    profile = resolve(tmp_path)
    assert (profile.port, profile.addr, profile.unix_sock) == (8081, "", "")
    assert (profile.driver, profile.log_level) == ("sqlite", "info")
    assert profile.demo is False and profile.allow_private_webhooks is False
    assert profile.instance_url == "" and not profile.is_public
    assert profile.version == memos.__version__


def test_every_flag_has_a_memos_variable(tmp_path: Path) -> None:
    environ = {
        "MEMOS_ADDR": "127.0.0.1",
        "MEMOS_PORT": "5230",
        "MEMOS_UNIX_SOCK": "/tmp/memos.sock",
        "MEMOS_DATA": str(tmp_path / "env-data"),
        "MEMOS_DRIVER": "sqlite",
        "MEMOS_DSN": str(tmp_path / "env.db"),
        "MEMOS_INSTANCE_URL": "https://memos.example.com",
        "MEMOS_DEMO": "true",
        "MEMOS_ALLOW_PRIVATE_WEBHOOKS": "1",
        "MEMOS_LOG_LEVEL": "DEBUG",
        "MEMOS_TRUSTED_PROXIES": "10.0.0.5,fd00::/8",
    }
    assert {flag.env for flag in FLAGS} == set(environ)
    profile = resolve_profile([], environ)
    assert profile.addr == "127.0.0.1" and profile.port == 5230
    assert profile.unix_sock == "/tmp/memos.sock"
    assert profile.data == str(tmp_path / "env-data")
    assert (profile.driver, profile.dsn) == ("sqlite", str(tmp_path / "env.db"))
    assert profile.is_public and profile.demo and profile.allow_private_webhooks
    assert profile.log_level == "debug"
    assert profile.trusted_proxies == ("10.0.0.5/32", "fd00::/8")


def test_trusted_proxies_default_to_loopback_and_can_be_none(tmp_path: Path) -> None:
    assert resolve(tmp_path).trusted_proxies == ("127.0.0.0/8", "::1/128")
    assert resolve(tmp_path, "--trusted-proxies", "none").trusted_proxies == ()
    assert resolve(tmp_path, "--trusted-proxies", "").trusted_proxies == ()


def test_flag_beats_variable(tmp_path: Path) -> None:
    profile = resolve(
        tmp_path, "--port", "9000", "--demo=false", "--instance-url", "",
        MEMOS_PORT="5230", MEMOS_DEMO="true", MEMOS_INSTANCE_URL="https://x.example",
    )
    assert profile.port == 9000
    assert profile.demo is False
    assert profile.instance_url == ""


def test_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    assert resolve(tmp_path, MEMOS_PORT="", MEMOS_DRIVER="").port == 8081


@pytest.mark.parametrize("argv, expected", [(["--demo"], True), (["--demo=true"], True), (["--demo=F"], False)])
def test_bool_flag_forms(tmp_path: Path, argv: list[str], expected: bool) -> None:
    assert resolve(tmp_path, *argv).demo is expected


def test_padded_instance_url_is_public_blank_is_private(tmp_path: Path) -> None:
    assert resolve(tmp_path, "--instance-url", "  https://m.example  ").is_public
    assert not resolve(tmp_path, "--instance-url", "   ").is_public


@pytest.mark.parametrize("given, level", [("DEBUG", "debug"), ("warn", "warn"), ("Error", "error"), ("info", "info")])
def test_log_levels_parse_case_insensitively(tmp_path: Path, given: str, level: str) -> None:
    assert resolve(tmp_path, "--log-level", given).log_level == level


def test_log_level_loud_is_refused_like_every_other_bad_value(tmp_path: Path, capsys, monkeypatch) -> None:
    status, out, err = run_main(capsys, monkeypatch, ["--log-level", "loud", "--data", str(tmp_path)])
    assert (status, out) == (2, "")
    assert err == "memos: --log-level: invalid log level 'loud': use one of debug, info, warn, error\n"


# --- data directory and dsn -------------------------------------------------


def test_data_dir_is_created_absolute_without_trailing_slash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    profile = resolve(tmp_path, "--data", "nested/dir/")
    assert profile.data == str(tmp_path / "nested" / "dir")
    assert (tmp_path / "nested" / "dir").is_dir()
    assert profile.dsn == str(tmp_path / "nested" / "dir" / "memos_prod.db")


def test_no_data_flag_uses_writable_system_dir(tmp_path: Path) -> None:
    system = tmp_path / "var-opt-memos"
    system.mkdir()
    profile = resolve_profile([], {}, default_data_dir=str(system))
    assert profile.data == str(system)
    assert not (system / ".write-test").exists()


def test_no_data_flag_without_system_dir_uses_current_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    profile = resolve_profile([], {}, default_data_dir=str(tmp_path / "missing"))
    assert profile.data == str(tmp_path)


# Nobody, root included, can create files directly in /proc: an unwritable directory on every Linux.
UNWRITABLE_DIR = "/proc"


def test_unwritable_system_dir_falls_back_to_current_dir(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.chdir(tmp_path)
    profile = resolve_profile([], {}, default_data_dir=UNWRITABLE_DIR)
    assert profile.data == str(tmp_path)
    assert "is not writable, using current directory" in caplog.text


def test_demo_dsn_default(tmp_path: Path) -> None:
    profile = resolve(tmp_path, "--demo")
    assert profile.dsn == str(tmp_path / "data" / "memos_demo.db")


def test_given_dsn_is_used_verbatim(tmp_path: Path) -> None:
    assert resolve(tmp_path, "--dsn", "file:x.db?mode=rwc").dsn == "file:x.db?mode=rwc"


# --- bad values: one line on stderr naming the flag, exit status 2 -----------


def bad_cases(tmp_path: Path) -> list[tuple[list[str], dict[str, str], str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    return [
        (["--port", "abc"], {}, "--port"),
        (["--port", "0"], {}, "--port"),
        (["--port", "65536"], {}, "--port"),
        ([], {"MEMOS_PORT": "http"}, "MEMOS_PORT"),
        (["--driver", "oracle"], {}, "--driver"),
        (["--demo=yes"], {}, "--demo"),
        ([], {"MEMOS_ALLOW_PRIVATE_WEBHOOKS": "maybe"}, "MEMOS_ALLOW_PRIVATE_WEBHOOKS"),
        (["--data", str(a_file)], {}, "--data"),
        (["--data", str(a_file / "sub")], {}, "--data"),
        (["--no-such-flag"], {}, "--no-such-flag"),
        (["--log-level", "loud"], {}, "--log-level"),
        (["--log-level", ""], {}, "--log-level"),
        ([], {"MEMOS_LOG_LEVEL": "verbose"}, "MEMOS_LOG_LEVEL"),
        (["--trusted-proxies", "10.0.0.0/33"], {}, "--trusted-proxies"),
        ([], {"MEMOS_TRUSTED_PROXIES": "proxy.lan"}, "MEMOS_TRUSTED_PROXIES"),
    ]


def test_every_bad_value_gives_one_line_and_status_2(tmp_path: Path, capsys, monkeypatch) -> None:
    for argv, environ, named in bad_cases(tmp_path):
        if not any(a.startswith("--data") for a in argv):
            argv = [*argv, "--data", str(tmp_path / "data")]
        status, out, err = run_main(capsys, monkeypatch, argv, **environ)
        assert status == 2, (argv, environ, err)
        assert out == ""
        assert err.count("\n") == 1 and err.startswith("memos: "), err
        assert named in err, (named, err)


def test_unwritable_data_dir_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    status, _, err = run_main(capsys, monkeypatch, ["--data", UNWRITABLE_DIR])
    assert status == 2 and "--data" in err and "not writable" in err


# --- version, help, python -m memos -------------------------------------------


@pytest.mark.parametrize("argv", [["version"], ["--version"]])
def test_version_subcommand_and_flag(capsys, monkeypatch, argv: list[str]) -> None:
    status, out, err = run_main(capsys, monkeypatch, argv)
    assert (status, out, err) == (0, memos.__version__ + "\n", "")


def test_help_lists_every_flag_and_variable(capsys, monkeypatch) -> None:
    status, out, _ = run_main(capsys, monkeypatch, ["--help"])
    assert status == 0
    for flag in FLAGS:
        assert flag.option in out and flag.env in out
    assert "version" in out and "--version" in out
    assert "mysql and postgres: not supported yet" in " ".join(out.split())


def test_python_dash_m_memos_runs_the_cli(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "memos", "version"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert (done.returncode, done.stdout) == (0, memos.__version__ + "\n")
    bad = subprocess.run(
        [sys.executable, "-m", "memos", "--port", "x", "--data", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["memos: --port: invalid port 'x': must be a number from 1 to 65535"]


# --- log lines ----------------------------------------------------------------


def test_log_lines_are_key_value() -> None:
    record = logging.makeLogRecord(
        {"msg": "server shutting down", "levelno": logging.WARNING, "levelname": "WARNING",
         "method": "/memos.api.v1.MemoService/ListMemos", "error": 'bad "x"'}
    )
    line = KeyValueFormatter().format(record)
    assert line.startswith("time=")
    expected = ' level=WARN msg="server shutting down" method=/memos.api.v1.MemoService/ListMemos error="bad \\"x\\""'
    assert expected in line
    assert "\n" not in line


def test_configure_logging_writes_to_the_given_stream() -> None:
    from memos.cli import configure_logging

    stream = io.StringIO()
    configure_logging("warn", stream)
    try:
        logging.getLogger("memos.test").info("hidden")
        logging.getLogger("memos.test").error("shown", extra={"code": 7})
    finally:
        configure_logging("info")
    assert stream.getvalue().count("\n") == 1
    assert "level=ERROR msg=shown code=7" in stream.getvalue()


# --- start-up failures: one line, exit status 1 --------------------------------


def _run_memos(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "memos", "--port", str(free_port()), *argv],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )


@pytest.mark.parametrize("driver", ["mysql", "postgres"])
def test_a_driver_not_supported_yet_is_one_line_and_status_1(tmp_path: Path, driver: str) -> None:
    done = _run_memos(tmp_path, "--driver", driver, "--dsn", "user:pw@tcp(db:3306)/memos", "--data", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"memos: --driver: the {driver} driver is not supported yet; "
        "memos.pyz stores its data in SQLite (--driver sqlite)"
    ]
    assert done.stdout == ""


def _garbage_database(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 16)


def _database_with_a_torn_schema_page(path: Path) -> None:
    import apsw

    conn = apsw.Connection(str(path))
    conn.execute("CREATE TABLE note (body TEXT); CREATE INDEX note_body ON note (body)")
    conn.execute("INSERT INTO note VALUES " + ", ".join(["(hex(randomblob(200)))"] * 200))
    conn.close()
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    # The file header stays valid (it is still an SQLite file); the schema page after it is torn.
    data[100:page_size] = b"\xa5" * (page_size - 100)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_garbage_database, _database_with_a_torn_schema_page])
def test_a_damaged_database_is_named_in_one_line_and_left_untouched(tmp_path: Path, damage) -> None:
    database = tmp_path / "memos_prod.db"
    damage(database)
    before = database.read_bytes()
    done = _run_memos(tmp_path, "--data", str(tmp_path))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"the database file {database} is damaged" in lines[0]
    assert "backup" in lines[0] and "Traceback" not in done.stderr
    assert database.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memos_prod.db"]


@pytest.mark.parametrize("command", ["install-service", "uninstall-service", "backup", "restore", "export", "import"])
def test_every_subcommand_helps_under_minus_OO(command: str) -> None:
    # memos.pyz re-executes itself under -OO, which drops docstrings: nothing may depend on them.
    done = subprocess.run([sys.executable, "-OO", "-m", "memos", command, "--help"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"memos {command}" in done.stdout
