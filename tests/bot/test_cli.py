"""The command line as a ward officer uses it: exit codes, one-line errors, staff management."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from bench.rush import CliResult as Result
from bench.rush import wardbot_in_process
from bot.simulator import FakeBotApi
from tests.harness import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[2]
ZALO_TOKEN = "1234567890:zalo-test-access-token-0000"


def wardbot(*args: str, env: dict[str, str]) -> Result:
    """Run `wardbot ARGS` (the console script's main) in a clean environment, from an empty folder,
    in-process (tests/bot/test_run.py starts the real process)."""
    return wardbot_in_process(*args, env=env)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "WARD_", "ZALO_"))
    }
    clean["HOME"] = str(tmp_path)
    clean["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    return clean


def test_admin_add_then_list_on_a_fresh_database(env: dict[str, str]) -> None:
    added = wardbot("admin", "add", "123", "--name", "Chị Hoa", env=env)
    assert added.returncode == 0, added.stderr
    listed = wardbot("admin", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "123" in listed.stdout and "Chị Hoa" in listed.stdout


def test_admin_remove(env: dict[str, str]) -> None:
    wardbot("admin", "add", "123", env=env)
    assert wardbot("admin", "remove", "123", env=env).returncode == 0
    assert "123" not in wardbot("admin", "list", env=env).stdout
    again = wardbot("admin", "remove", "123", env=env)
    assert again.returncode == 1 and "123 không phải cán bộ phường; chưa có gì thay đổi." in again.stderr


def test_admin_add_refuses_a_non_number(env: dict[str, str]) -> None:
    result = wardbot("admin", "add", "hoa", env=env)
    assert result.returncode == 2
    assert "is not a Telegram user id" in result.stderr


def test_admin_setup_link_prints_the_code_for_a_ward_or_the_province(env: dict[str, str]) -> None:
    assert "wardbot admin setup-link" in wardbot("admin", "list", env=env).stdout
    ward = wardbot("admin", "setup-link", env=env)
    assert ward.returncode == 0, ward.stderr
    assert "whoever opens it becomes ward staff of" in ward.stdout and "t.me" not in ward.stdout
    assert re.search(r"send the message  /start [A-Za-z0-9_-]{22}\n", ward.stdout), ward.stdout
    province = wardbot("admin", "setup-link", "--province", env=env)
    assert province.returncode == 0 and "becomes province staff (reads every ward)" in province.stdout

    unknown = wardbot("admin", "setup-link", "--ward", "NOPE", env=env)
    assert unknown.returncode == 2 and "error: --ward NOPE: no such ward" in unknown.stderr
    assert wardbot("admin", "setup-link", "--ward", "WARD", "--province", env=env).returncode == 2
    audit = wardbot("audit", env=env).stdout
    assert "setup_link_issued  by command line  staff" in audit
    assert "setup_link_issued  by command line  province" in audit


async def test_a_setup_link_with_a_refused_token_still_prints_the_code(
    env: dict[str, str], fake_api: FakeBotApi
) -> None:
    env.update(
        {"TELEGRAM_BOT_TOKEN": "42:not-the-fake-apis-token", "TELEGRAM_API_BASE_URL": fake_api.base_url}
    )
    result = await asyncio.to_thread(wardbot, "admin", "setup-link", env=env)
    assert result.returncode == 0, result.stderr
    assert "warning: TELEGRAM_BOT_TOKEN: Telegram refused this token." in result.stderr
    assert "not-the-fake" not in result.stderr + result.stdout
    assert "t.me" not in result.stdout and "/start " in result.stdout


def test_db_upgrade(env: dict[str, str]) -> None:
    result = wardbot("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert Path(env["HOME"], "cli.sqlite3").exists()


@pytest.mark.parametrize(
    "command",
    [
        (),
        ("run",),
        ("demo",),
        ("db",),
        ("db", "upgrade"),
        ("admin",),
        ("admin", "add"),
        ("admin", "list"),
        ("admin", "remove"),
        ("admin", "setup-link"),
        ("groups",),
        ("groups", "import"),
        ("groups", "list"),
        ("audit",),
        ("export",),
    ],
)
def test_every_command_has_help(env: dict[str, str], command: tuple[str, ...]) -> None:
    result = wardbot(*command, "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "usage: wardbot" in result.stdout


def test_run_without_a_token_names_the_variable(env: dict[str, str]) -> None:
    result = wardbot("run", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("TELEGRAM_API_BASE_URL", "localhost:8081/bot"),
        ("WEBHOOK_URL", "example"),
        ("DATABASE_URL", "ward.sqlite"),
        ("WEBHOOK_PORT", "eighty"),
    ],
)
def test_malformed_settings_give_one_line_and_exit_2(env: dict[str, str], variable: str, value: str) -> None:
    env.update({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, variable: value})
    result = wardbot("run", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {variable}:"), result.stderr


def test_a_broken_ward_file_stops_start_up_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    ward = tmp_path / "ward.toml"
    ward.write_text('[ward]\nname = "Phường X"\nreport_deadline_day = 40\n', encoding="utf-8")
    env.update({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "WARD_CONFIG": str(ward)})
    result = wardbot("run", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ward.toml" in lines[0] and "report_deadline_day" in lines[0]


def test_groups_import_reports_bad_lines_imports_good_ones_and_updates_on_reimport(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["DEFAULT_LANGUAGE"] = "en"  # what the command prints follows the deployment's language
    sheet = tmp_path / "to-dan-pho.csv"
    sheet.write_text(
        "code,name,households,block\n"
        "TDP01,Tổ dân phố số 1,312,Khu vực 1\n"
        "TDP02,Tổ dân phố số 2,nhiều,\n"
        "TDP03,,120,\n"
        'TDP04,Tổ dân phố số 4,"1.250",Khu vực 2\n',
        encoding="utf-8-sig",
    )
    first = wardbot("groups", "import", str(sheet), env=env)
    assert first.returncode == 1
    assert "line 3: households 'nhiều'" in first.stderr and "line 4: the name is empty" in first.stderr
    assert "2 groups added, 0 updated, 0 unchanged, 2 lines skipped." in first.stdout

    sheet.write_text("code,name,households\nTDP01,Tổ dân phố số 1,320\ntdp04,Tổ dân phố số 4,1250\n")
    again = wardbot("groups", "import", str(sheet), env=env)
    assert again.returncode == 0, again.stderr
    assert "0 groups added, 1 updated, 1 unchanged, 0 lines skipped." in again.stdout
    sheet.write_text("code,name,households\nTDP05,Tổ dân phố số 5,99\nTDP05,Tổ dân phố số 5,99\n")
    assert (
        "1 group added, 0 updated, 0 unchanged, 1 line skipped."
        in wardbot("groups", "import", str(sheet), env=env).stdout
    )

    listing = wardbot("groups", "list", env=env).stdout.splitlines()
    assert listing[1].split("\t")[:3] == ["TDP01", "Tổ dân phố số 1", "320"]
    assert listing[2].split("\t")[:3] == ["TDP04", "Tổ dân phố số 4", "1250"]
    assert len(listing) == 4


def test_groups_import_reads_vietnamese_headers_and_answers_in_vietnamese(
    env: dict[str, str], tmp_path: Path
) -> None:
    sheet = tmp_path / "danh-sach-to.csv"
    sheet.write_text(
        "Mã tổ;Tên tổ;Số hộ;Khối thi đua;Tên tổ trưởng\n"
        "TDP01;Tổ dân phố số 1;312;Khu vực 1;Nguyễn Văn Nam\n"
        "TDP02;Tổ dân phố số 2;nhiều;;\n",
        encoding="utf-8-sig",
    )
    imported = wardbot("groups", "import", str(sheet), env=env)
    assert "dòng 3: số hộ 'nhiều' không phải số nguyên từ 0 đến 100.000" in imported.stderr
    assert "đã thêm 1 tổ, cập nhật 0, 0 không đổi, bỏ qua 1 dòng." in imported.stdout
    listing = wardbot("groups", "list", env=env).stdout.splitlines()
    assert listing[0].startswith("Mã tổ\tTên tổ\tSố hộ\tKhối thi đua\tTổ trưởng\tTổ phó")
    assert listing[1].split("\t")[:4] == ["TDP01", "Tổ dân phố số 1", "312", "Khu vực 1"]

    sheet.write_text("ma to,so ho\nTDP03,120\n", encoding="utf-8")
    refused = wardbot("groups", "import", str(sheet), env=env)
    assert "(Mã tổ,Tên tổ,Số hộ[,Khối]); còn thiếu: name" in refused.stderr


def test_groups_come_from_the_ward_file_and_changes_are_audited(env: dict[str, str]) -> None:
    env["WARD_CONFIG"] = str(ROOT / "examples" / "ward.toml")
    wardbot("admin", "add", "123", "--name", "Chị Hoa", env=env)
    wardbot("admin", "remove", "123", env=env)

    assert [line.split("\t")[0] for line in wardbot("groups", "list", env=env).stdout.splitlines()[1:]] == [
        f"TDP0{n}" for n in range(1, 7)
    ]
    audit = wardbot("audit", "--last", "3", env=env)
    assert audit.returncode == 0, audit.stderr
    lines = audit.stdout.splitlines()
    assert len(lines) == 3
    assert "staff_added" in lines[1] and "Chị Hoa (telegram:123)" in lines[1]
    assert "staff_removed" in lines[2]


def test_export_writes_a_workbook_and_a_csv(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "thang-10.xlsx"
    result = wardbot("export", "--period", "2026-10", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"PK")
    csv_out = tmp_path / "thang-10.csv"
    assert (
        wardbot("export", "--period", "2026-10", "--format", "csv", "--out", str(csv_out), env=env).returncode
        == 0
    )
    assert csv_out.read_bytes().startswith("\ufeff".encode())
    bad = wardbot("export", "--period", "tháng mười", env=env)
    assert bad.returncode == 2 and "--period" in bad.stderr


def test_zalo_staff_and_a_zalo_webhook_without_its_secret(env: dict[str, str]) -> None:
    assert (
        wardbot("admin", "add", "zalo-abc123", "--platform", "zalo", "--name", "Hoa", env=env).returncode == 0
    )
    assert "zalo-abc123\tzalo\tHoa" in wardbot("admin", "list", env=env).stdout
    assert wardbot("admin", "add", "không hợp lệ!", "--platform", "zalo", env=env).returncode == 2

    env["ZALO_BOT_TOKEN"] = ZALO_TOKEN
    env["ZALO_WEBHOOK_URL"] = "https://phuong.example/zalo"
    result = wardbot("run", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: ZALO_WEBHOOK_SECRET: required when ZALO_WEBHOOK_URL is set (Zalo sends it with every update)"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("zalo-test-token-0000000000", "no bot id"),
        ("1234567890:short", "a secret under 10 characters"),
        ("1234567890:bí-mật-không-hợp-lệ", "a secret that is not URL-safe"),
        ("abc:zalo-test-access-token-0000", "a bot id that is not digits"),
    ],
)
def test_a_misshapen_zalo_token_gives_one_line_without_the_token(
    env: dict[str, str], value: str, problem: str
) -> None:
    env["ZALO_BOT_TOKEN"] = value
    result = wardbot("run", env=env)
    assert result.returncode == 2, problem
    assert result.stderr.strip().splitlines() == [
        "error: ZALO_BOT_TOKEN: does not look like a token from Zalo Bot Creator (BOT_ID:SECRET: digits, "
        "a colon, then at least 10 letters, digits or - _ . ~)"
    ], problem
    assert value not in result.stderr


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("s3cret", "must be 8 to 256 characters long (Zalo refuses others), not 6"),
        ("x" * 257, "must be 8 to 256 characters long (Zalo refuses others), not 257"),
        ("bí-mật-của-phường", "may hold only A-Z, a-z, 0-9, _ and -"),
        ("has spaces in it", "may hold only A-Z, a-z, 0-9, _ and -"),
    ],
)
def test_a_zalo_webhook_secret_outside_8_to_256_safe_characters_gives_one_line(
    env: dict[str, str], secret: str, message: str
) -> None:
    env.update(
        {
            "ZALO_BOT_TOKEN": ZALO_TOKEN,
            "ZALO_WEBHOOK_URL": "https://phuong.example/zalo",
            "ZALO_WEBHOOK_SECRET": secret,
        }
    )
    result = wardbot("run", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: ZALO_WEBHOOK_SECRET: {message}"]


def test_well_shaped_zalo_settings_pass_the_check() -> None:
    from bot.settings import load_settings

    for secret in ("a" * 8, "Zalo_webhook-secret-2026", "b" * 256):
        settings = load_settings(
            _env_file=None,
            zalo_bot_token=f" {ZALO_TOKEN} ",
            zalo_webhook_url="https://phuong.example/zalo",
            zalo_webhook_secret=secret,
        )
        assert settings.zalo_bot_token == ZALO_TOKEN and settings.zalo_webhook_secret == secret
    # Telegram's own webhook secret keeps its 1-256 rule.
    assert load_settings(_env_file=None, webhook_secret="abc").webhook_secret == "abc"


def one_error_line(result: Result) -> str:
    """A mistake ends with exit status 2 and one line, without a traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///x.db", "write sqlite+aiosqlite:///x.db instead"),
        ("sqlite+pysqlite:///data/x.db", "write sqlite+aiosqlite:///data/x.db instead"),
        (
            "postgresql://hoa:bi-mat@db.phuong/ward",
            "write postgresql+asyncpg://hoa:***@db.phuong/ward instead",
        ),
        ("postgres://hoa@db/ward", "write postgresql+asyncpg://hoa@db/ward instead"),
        ("mysql://hoa@db/ward", "unknown database 'mysql'; write sqlite+aiosqlite:///data/wardbot.sqlite3"),
    ],
)
def test_a_database_url_with_a_synchronous_or_unknown_driver_says_what_to_write(
    env: dict[str, str], url: str, expected: str
) -> None:
    env["DATABASE_URL"] = url
    line = one_error_line(wardbot("db", "upgrade", env=env))
    assert line.startswith("error: DATABASE_URL: ") and expected in line, line
    assert "bi-mat" not in line


def test_a_database_folder_under_a_file_gives_one_line(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a folder")
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'ward.sqlite3'}"
    line = one_error_line(wardbot("admin", "list", env=env))
    folder = tmp_path / "data"
    assert (
        line == f"error: DATABASE_URL: {folder} is a file, not a folder; choose another path for the database"
    )
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'more' / 'ward.sqlite3'}"
    line = one_error_line(wardbot("db", "upgrade", env=env))
    assert f"cannot create the folder {tmp_path / 'data' / 'more'} for the database (Not a directory)" in line


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs a read-only folder (Linux /proc)")
def test_a_database_in_a_read_only_folder_gives_one_line(env: dict[str, str]) -> None:
    env["DATABASE_URL"] = "sqlite+aiosqlite:////proc/self/ward.sqlite3"
    line = one_error_line(wardbot("db", "upgrade", env=env))
    assert line.startswith(
        "error: DATABASE_URL: cannot open the database sqlite+aiosqlite:////proc/self/ward"
    )
    assert "check that its folder exists and that this user may write there" in line


def test_export_into_a_missing_folder_gives_one_line(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "bao-cao" / "thang-10.xlsx"
    line = one_error_line(wardbot("export", "--period", "2026-10", "--out", str(out), env=env))
    assert line == f"error: --out {out}: the folder {out.parent} does not exist; create it or choose another"
    assert not Path(env["HOME"], "cli.sqlite3").exists(), "nothing is done before the check"
    line = one_error_line(wardbot("export", "--period", "2026-10", "--out", str(tmp_path), env=env))
    assert line.startswith(f"error: --out {tmp_path}: is a folder; give a file name")


def test_a_timezone_that_is_not_an_iana_name_suggests_asia_ho_chi_minh(env: dict[str, str]) -> None:
    env["TIMEZONE"] = "Hanoi"
    line = one_error_line(wardbot("admin", "list", env=env))
    assert line == 'error: TIMEZONE: unknown time zone "Hanoi"; use an IANA name such as "Asia/Ho_Chi_Minh"'


def test_an_absurd_number_in_the_ward_file_gives_one_line(env: dict[str, str], tmp_path: Path) -> None:
    ward = tmp_path / "ward.toml"
    ward.write_text(
        '[ward]\nname = "Phường X"\n\n[[indicators]]\nkey = "births"\nlabel = "Số trẻ sinh"\n'
        f'kind = "integer"\nmax = 1{"0" * 400}\n',
        encoding="utf-8",
    )
    env["WARD_CONFIG"] = str(ward)
    line = one_error_line(wardbot("groups", "list", env=env))
    assert line == f'error: {ward}: indicators[1] (key "births"): max must be a number from -10^15 to 10^15'


def test_user_ids_and_counts_take_ascii_digits_only(env: dict[str, str]) -> None:
    assert "is not a Telegram user id" in one_error_line(wardbot("admin", "add", "²", env=env))
    assert "is not a Telegram user id" in one_error_line(wardbot("admin", "add", "9" * 5000, env=env))
    result = wardbot("audit", "--last", "²", env=env)
    assert result.returncode == 2 and "is not a positive whole number" in result.stderr


def test_csv_edits_survive_the_ward_file_and_an_empty_block_keeps_the_block(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["WARD_CONFIG"] = str(ROOT / "examples" / "ward.toml")  # TDP01: 312 households, Khu vực 1
    env["DEFAULT_LANGUAGE"] = "en"
    sheet = tmp_path / "to-dan-pho.csv"
    sheet.write_text(
        "code,name,households,block\n"
        "TDP01,Tổ dân phố số 1,320,\n"
        "TDP02,Tổ dân phố số 2,460,-\n"
        "TDP03,Tổ dân phố số 3,²,Khu vực 9\n"
        "TDP04,Tổ dân phố số 4,830,Khu vực 3\n",
        encoding="utf-8",
    )
    imported = wardbot("groups", "import", str(sheet), env=env)
    assert imported.returncode == 1 and "Traceback" not in imported.stderr
    assert "line 4: households '²' is not a whole number 0–100000" in imported.stderr
    assert "0 groups added, 3 updated, 0 unchanged, 1 line skipped." in imported.stdout

    listing = wardbot("groups", "list", env=env).stdout.splitlines()  # starts with the ward file again
    assert [line.split("\t")[:4] for line in listing[1:5]] == [
        ["TDP01", "Tổ dân phố số 1", "320", "Khu vực 1"],  # the empty block cell kept the block
        ["TDP02", "Tổ dân phố số 2", "460", ""],  # "-" cleared it
        ["TDP03", "Tổ dân phố số 3", "187", "Khu vực 1"],  # the bad line changed nothing
        ["TDP04", "Tổ dân phố số 4", "830", "Khu vực 3"],  # CSV edits survive the unchanged ward file
    ]


def test_the_command_line_speaks_in_the_ward_s_words(env: dict[str, str], tmp_path: Path) -> None:
    ward = tmp_path / "ward.toml"
    ward.write_text(
        '[ward]\nname = "Phường Bến Thành"\nunit = "khu phố"\n'
        '[[groups]]\ncode = "KP01"\nname = "Khu phố 1"\nhouseholds = 420\n',
        encoding="utf-8",
    )
    env["WARD_CONFIG"] = str(ward)
    listing = wardbot("groups", "list", env=env).stdout.splitlines()
    assert listing[0].startswith(
        "Mã khu phố\tTên khu phố\tSố hộ\tKhối thi đua\tTrưởng khu phố\tPhó trưởng khu phố"
    )
    assert listing[1].startswith("KP01\tKhu phố 1\t420")
