"""Which JDK runs the stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsflow.core.errors import StackError
from newsflow.stack.jdk import choose_jdk, find_java_home, java_version


def _jdk(root: Path, name: str, version: str | None) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "java").chmod(0o755)
    if version is not None:
        (home / "release").write_text(f'IMPLEMENTOR="x"\nJAVA_VERSION="{version}"\n')
    return home


def test_version_comes_from_the_release_file(tmp_path: Path) -> None:
    assert java_version(_jdk(tmp_path, "a", "17.0.15")) == (17, 0, 15)
    assert java_version(_jdk(tmp_path, "b", "25")) == (25,)
    assert java_version(_jdk(tmp_path, "c", None)) is None


def test_17_is_preferred_over_newer_and_older_ones_are_ignored(tmp_path: Path) -> None:
    _jdk(tmp_path, "java-11", "11.0.2")
    seventeen = _jdk(tmp_path, "java-17", "17.0.15")
    _jdk(tmp_path, "temurin-25", "25.0.1")
    _jdk(tmp_path, "java-21", "21.0.4")
    assert choose_jdk(sorted(tmp_path.iterdir())) == seventeen


def test_without_17_the_highest_suitable_one_wins(tmp_path: Path) -> None:
    _jdk(tmp_path, "java-11", "11.0.2")
    _jdk(tmp_path, "java-21", "21.0.4")
    newest = _jdk(tmp_path, "temurin-25", "25.0.1")
    assert choose_jdk(sorted(tmp_path.iterdir())) == newest


def test_symlinked_aliases_and_broken_dirs_do_not_count(tmp_path: Path) -> None:
    real = _jdk(tmp_path, "java-17-openjdk-amd64", "17.0.15")
    (tmp_path / "java-1.17.0-openjdk-amd64").symlink_to(real)
    (tmp_path / "empty").mkdir()
    assert choose_jdk(sorted(tmp_path.iterdir())) == real
    assert choose_jdk([tmp_path / "empty"]) is None


def test_settings_then_java_home_then_the_jvm_folder_then_path(tmp_path: Path) -> None:
    jvms = tmp_path / "jvm"
    best = _jdk(jvms, "java-17", "17.0.1")
    configured = _jdk(tmp_path, "configured", "21.0.1")
    env_home = _jdk(tmp_path, "env", "25.0.1")
    on_path = _jdk(tmp_path / "path", "jdk", "21.0.2")
    path_env = {"PATH": str(on_path / "bin")}
    assert find_java_home(configured, {"JAVA_HOME": str(env_home)}, jvms) == configured
    assert find_java_home(None, {"JAVA_HOME": str(env_home)}, jvms) == env_home
    assert find_java_home(None, path_env, jvms) == best
    assert find_java_home(None, path_env, tmp_path / "nojvm") == on_path.resolve()


def test_no_jdk_at_all_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="no JDK found: install Java 17"):
        find_java_home(None, {"PATH": str(tmp_path)}, tmp_path / "nojvm")


def test_a_configured_jdk_that_is_too_old_or_not_a_jdk_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="is Java 11; Kafka 4 needs Java 17"):
        find_java_home(_jdk(tmp_path, "old", "11.0.2"), {}, tmp_path)
    with pytest.raises(StackError, match=r"JAVA_HOME=.* has no bin/java"):
        find_java_home(None, {"JAVA_HOME": str(tmp_path / "nothing")}, tmp_path)
