"""The README stays true: its configuration reference is the generated one."""
from pathlib import Path

from extauthz.cli import README_END, README_START, reference_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_config_reference_in_readme_is_current():
    text = README.read_text(encoding="utf-8")
    section = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert section == reference_table(), \
        "README config reference is stale: run `extauthz config reference --write-readme README.md`"


def test_readme_gives_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run " in text and "make test " in text
