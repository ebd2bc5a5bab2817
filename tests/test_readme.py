"""The README is the operator's manual: every setting must be in its configuration table."""

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    missing = [
        f"PLAUDIT_{name.upper()}"
        for name in Settings.model_fields
        if f"`PLAUDIT_{name.upper()}`" not in README
    ]
    assert missing == []


def test_the_readme_names_the_two_commands_and_ci_calls_the_test_one():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "make run" in README and "make test" in README
    assert "make test" in ci
