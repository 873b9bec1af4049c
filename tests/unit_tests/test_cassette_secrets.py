"""No API key may reach a recorded cassette.

Every file in ``cassettes/`` is scanned as text and, when it is YAML, as parsed data too:
YAML escapes the quotes of a double-quoted string and may fold it over several lines, and
only the parsed string shows what a request or response really held.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped,unused-ignore]
from vcr.serializers import yamlserializer

CASSETTE_DIR = Path(__file__).resolve().parents[2] / "cassettes"
PLACEHOLDER = "PLACEHOLDER"  # what tests/integration_tests/conftest.py writes instead
# Shorter values cannot be real keys, and would match text everywhere.
MIN_ENV_KEY_LENGTH = 8

MEMOS_KEY = re.compile(r"mpg-[A-Za-z0-9]{8,}")
# "Token <value>": the value must hold a digit, "-" or "_", as generated keys do, so that
# prose such as "Token quota exceeded" in an error message is not taken for a key.
TOKEN = re.compile(r"\bToken\s+(?!PLACEHOLDER\b)(?=[\w.-]*[0-9_-])[A-Za-z0-9][\w.-]{5,}")
# "authorization: value", "Authorization": "value", authorization=value, or the YAML block
# form with the value on the next line after "- ".
AUTHORIZATION = re.compile(
    r"\bauthorization\b[\"']?\s*[:=][ \t]*(?:\r?\n[ \t]*-[ \t]*)?(?P<value>[^\r\n]*)",
    re.IGNORECASE,
)


def _mask(secret: str) -> str:
    # Never print a found key in full: the failure message ends up in CI logs.
    return secret[:4] + "..." if len(secret) > 4 else "..."


def _env_key() -> str | None:
    key = os.environ.get("MEMOS_API_KEY", "").strip()
    if key[:6].lower() == "token ":
        key = key[6:].strip()
    return key if len(key) >= MIN_ENV_KEY_LENGTH else None


def _strings(node: object) -> Iterator[str]:
    """Every string in parsed YAML, keys included."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, bytes):
        yield node.decode("utf-8", "replace")
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _strings(item)


def _header_values(node: object) -> Iterator[object]:
    """The values of every mapping entry named ``authorization``, in any case."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.lower() == "authorization":
                yield from value if isinstance(value, list) else [value]
            else:
                yield from _header_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _header_values(item)


def scan_text(text: str, api_key: str | None) -> list[str]:
    """What in ``text`` looks like an API key, described without the key itself."""
    found = [f"MemOS key {_mask(m.group())}" for m in MEMOS_KEY.finditer(text)]
    found += [f"'Token' with {_mask(m.group().split()[-1])}" for m in TOKEN.finditer(text)]
    for match in AUTHORIZATION.finditer(text):
        value = match.group("value").strip().strip("[]{},'\"` ")
        if value != PLACEHOLDER:
            found.append(f"authorization set to {_mask(value)}")
    if api_key and api_key in text:
        found.append("the value of MEMOS_API_KEY")
    return found


def find_secrets(path: Path, api_key: str | None = None) -> list[str]:
    """Everything in the file at ``path`` that looks like an API key."""
    text = path.read_text(encoding="utf-8", errors="replace")
    found = scan_text(text, api_key)
    if path.suffix in (".yaml", ".yml"):
        data = yamlserializer.deserialize(text)
        for value in _header_values(data):
            if value != PLACEHOLDER:
                found.append(f"authorization header set to {_mask(str(value))}")
        for string in _strings(data):
            found += scan_text(string, api_key)
    return sorted(set(found))


def _cassette_files() -> list[Path]:
    return sorted(path for path in CASSETTE_DIR.rglob("*") if path.is_file())


def test_there_are_cassettes_to_scan() -> None:
    assert any(path.suffix == ".yaml" for path in _cassette_files())


@pytest.mark.parametrize("path", _cassette_files(), ids=lambda path: path.name)
def test_cassette_holds_no_api_key(path: Path) -> None:
    assert find_secrets(path, _env_key()) == []


# ---- the scanner itself ----------------------------------------------------------------------

CLEAN_CASSETTE = """\
interactions:
- request:
    body: '{"query":"Token usage","user_id":"memos_user_123"}'
    headers:
      authorization:
      - PLACEHOLDER
      Authorization: [PLACEHOLDER]
    method: POST
    uri: https://memos.memtensor.cn/api/openmem/v1/search/memory
  response:
    body:
      string: '{"code":0,"data":{"usage":{"prompt_tokens":12}},"message":"ok"}'
version: 1
"""


def _request_with(headers: str = "", body: str = "{}") -> str:
    return CLEAN_CASSETTE.replace("      Authorization: [PLACEHOLDER]\n", headers).replace(
        """'{"query":"Token usage","user_id":"memos_user_123"}'""", body
    )


def test_a_clean_cassette_passes(tmp_path: Path) -> None:
    path = tmp_path / "clean.yaml"
    path.write_text(CLEAN_CASSETTE, encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text("The Authorization header is replaced by PLACEHOLDER.\n", encoding="utf-8")
    assert find_secrets(path, "mpg-NotInTheFile123") == []
    assert find_secrets(readme, "mpg-NotInTheFile123") == []


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param(_request_with(headers="      Authorization:\n      - Token x\n"), id="header"),
        pytest.param(_request_with(headers="      AUTHORIZATION: [abc]\n"), id="header-flow"),
        pytest.param(_request_with(body='\'{"key":"mpg-AbCdEf123456"}\''), id="memos-key"),
        pytest.param(_request_with(body="'Token a1b2c3d4e5f6'"), id="token"),
        pytest.param(
            _request_with(body='\'{"headers":{"Authorization":"Token x"}}\''), id="in-body"
        ),
    ],
)
def test_the_scanner_catches_a_planted_key(tmp_path: Path, planted: str) -> None:
    path = tmp_path / "planted.yaml"
    path.write_text(planted, encoding="utf-8")
    assert find_secrets(path) != []


def test_the_scanner_catches_the_environment_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMOS_API_KEY", "Token sk_live_plainletters")
    path = tmp_path / "planted.yaml"
    path.write_text(_request_with(body='\'{"note":"sk_live_plainletters"}\''), encoding="utf-8")
    assert find_secrets(path, _env_key()) == ["the value of MEMOS_API_KEY"]


def test_the_scanner_reads_escaped_yaml_strings(tmp_path: Path) -> None:
    # A body with a carriage return is written double-quoted, its quotes escaped: only the
    # parsed string shows the header inside it.
    body = '{"headers":{"Authorization":"Bearer abc"}}\r\n'
    text: str = yaml.dump({"interactions": [{"request": {"body": body}}]})
    assert scan_text(text, None) == []  # the raw text alone would pass
    path = tmp_path / "escaped.yaml"
    path.write_text(text, encoding="utf-8")
    assert find_secrets(path) == ["authorization set to Bear..."]
