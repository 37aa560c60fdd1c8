"""bench.commands.run_checked: stdout on success, one error naming the command, its exit code and stderr's end."""

import sys

import pytest

from bench.commands import run_checked


def test_returns_stdout_of_a_command_that_succeeds():
    assert run_checked([sys.executable, "-c", "print('made')"], "printer") == "made\n"


def test_a_failure_raises_the_given_error_with_the_exit_code_and_the_end_of_stderr():
    class Failed(RuntimeError):
        pass

    script = "import sys; sys.stderr.write('x' * 50 + 'the cause'); sys.exit(3)"
    with pytest.raises(Failed) as caught:
        run_checked([sys.executable, "-c", script], "`tool step`", error=Failed, tail=12)
    assert str(caught.value) == "`tool step` exited 3: xxxthe cause"


def test_the_separator_shapes_the_message():
    with pytest.raises(RuntimeError, match=r"\Aworker v 10 failed:\nboom\Z"):
        run_checked([sys.executable, "-c", "import sys; sys.exit('boom')"], "worker v 10", separator=" failed:\n")


def test_cwd_and_env_reach_the_command(tmp_path):
    out = run_checked(
        [sys.executable, "-c", "import os; print(os.getcwd(), os.environ['MARK'])"],
        "env",
        cwd=tmp_path,
        env={"MARK": "here", "PATH": "/usr/bin:/bin"},
    )
    assert out.split() == [str(tmp_path), "here"]
