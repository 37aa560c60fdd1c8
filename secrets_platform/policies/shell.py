"""A POSIX shell script read into commands of words, by Python's ``shlex`` with the shell's rules.

What a container's ``sh -c`` runs is read the way ``sh`` reads it, as far as the pack needs:

- words: ``shlex`` in POSIX mode splits on blanks and removes quotes and backslashes;
  ``whitespace_split`` keeps ``a:b``, ``x=$y`` whole (shlex's own word characters would cut them);
- commands: the operators ``;`` ``&`` ``&&`` ``|`` ``||`` ``(`` ``)`` ``;;`` and a newline end one; a
  redirection (``>``, ``2>&1``, ``<<EOF``...) is no word of its command, nor is its target, nor
  a number written before it; an operator quoted or escaped (``";"``, ``\\;``) is a word;
- ``#`` begins a comment only where a word could begin (``a#b`` is one word); the newline after a
  comment still ends the command; a backslash before a newline joins the lines;
- what the pack does not model: here-document bodies (read as commands, which reads more, not less),
  ``$'...'``, and ``"\\$"`` (kept as ``\\$``: a ``$`` either way).

A word the shell may expand into other words, or into nothing (``$X``, ``${X}``, ``$(...)``, backticks,
``*``, ``?``, ``[...]``, ``{a,b}``) is reported by ``may_expand``; the shell reads the text of the
expansion, the pack cannot.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

_OPERATOR_CHARS = "();<>|&\n"
_OPERATORS = re.compile(r"<<-|<<|>>|<&|>&|<>|>\||&>>|&>|&&|\|\||;;|[;&|()<>\n]")
_REDIRECTIONS = frozenset({"<<-", "<<", ">>", "<&", ">&", "<>", ">|", "&>>", "&>", "<", ">"})
# A backslash before a newline, not itself escaped: sh removes both.
_CONTINUED_LINE = re.compile(r"(?<!\\)((?:\\\\)*)\\\n")

EXPANSION_CHARS = "$`"  # parameter, command and arithmetic expansion
# Those, pathname patterns, and bash's brace expansion (bash is /bin/sh on some images; a lone '{' is a word).
_MAY_EXPAND = re.compile(r"[$`*?]|\[.*\]|\{[^{}]*(?:,|\.\.)[^{}]*\}")


def may_expand(word: str) -> bool:
    """True when the shell may turn ``word`` into other words (or none) before a program sees it."""
    return _MAY_EXPAND.search(word) is not None


def is_expansion(word: str) -> bool:
    """True when ``word`` holds a parameter or command expansion (``$X``, ``$(...)``, backticks)."""
    return any(c in word for c in EXPANSION_CHARS)


class ScriptError(ValueError):
    """``shlex`` cannot read the script: a quote left open, or a backslash at its end."""


@dataclass(frozen=True)
class _Token:
    text: str
    quoted: bool  # some of it was quoted or escaped: a word, whatever it holds


class _Source(io.StringIO):
    """The script as the lexer reads it: whether a character is read inside quotes, and comments that stop before their newline."""

    def __init__(self, text: str, lexer: _Lexer):
        super().__init__(text)
        self._lexer = lexer

    def read(self, size: int | None = -1, /) -> str:
        state = self._lexer.state
        if state is not None and (state in self._lexer.quotes or state in self._lexer.escape):
            self._lexer.quoted = True
        return super().read(size)

    def readline(self, size: int = -1, /) -> str:  # type: ignore[override]  # as typeshed's own TextIOBase
        line = super().readline(size)
        if line.endswith("\n"):  # the newline is read again, as the operator that ends the command
            self.seek(self.tell() - 1)
            return line[:-1]
        return line


class _Lexer(shlex.shlex):
    """shlex in POSIX mode, splitting on blanks only, with sh's comments, and telling quoted tokens apart."""

    state: str | None  # shlex's: ' ' between words, 'a' in one, 'c' in an operator, a quote or '\\' inside those

    def __init__(self, script: str):
        self.quoted = False
        super().__init__(_Source(script, self), posix=True, punctuation_chars=_OPERATOR_CHARS)
        self.whitespace = " \t\r"  # a newline is an operator (it ends a command)
        self.whitespace_split = True

    @property
    def commenters(self) -> str:
        """'#' begins a comment where a word may begin (between words, after an operator), not inside one."""
        return "#" if self.state in (" ", "c") else ""

    @commenters.setter
    def commenters(self, value: str) -> None:
        """shlex sets its default; the property above decides."""

    def read_token(self) -> str | None:
        self.quoted = False
        return super().read_token()

    def tokens(self) -> Iterator[_Token]:
        while (text := self.get_token()) is not None:
            yield _Token(text, self.quoted)


def _tokens(script: str) -> list[_Token]:
    try:
        return list(_Lexer(_CONTINUED_LINE.sub(r"\1", script)).tokens())
    except ValueError as error:  # "No closing quotation", "No escaped character"
        raise ScriptError(str(error)) from None


def commands(script: str) -> list[tuple[str, ...]]:
    """The simple commands of ``script``, each as its words (redirections left out). Raises ``ScriptError``."""
    found: list[tuple[str, ...]] = []
    words: list[str] = []
    redirected = False  # the next word is a redirection's target
    for token in _tokens(script):
        if token.quoted or not all(c in _OPERATOR_CHARS for c in token.text):
            if not redirected:
                words.append(token.text)
            redirected = False
            continue
        for operator in _OPERATORS.findall(token.text):
            if operator in _REDIRECTIONS:
                if words and words[-1].isdigit():
                    words.pop()  # 2>file: a file descriptor, not a word (read so even if written '2 >file')
                redirected = True
            else:
                if words:
                    found.append(tuple(words))
                words, redirected = [], False
    if words:
        found.append(tuple(words))
    return found
