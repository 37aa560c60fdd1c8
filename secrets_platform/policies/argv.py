"""The flags of ``vault server`` and ``bao server``, read by the rules of Go's ``flag`` package.

Vault and OpenBao read a subcommand's flags with one standard ``flag.FlagSet`` (their ``FlagSets`` wrap
it; their bool flags say ``IsBoolFlag``), so these are the rules that decide whether a server runs in dev
mode, and the ones this module follows:

- ``-name`` and ``--name`` are one flag; ``-name=value`` carries its value in the same word;
- a bool flag takes a value only after ``=`` (``-dev=false``), read by ``strconv.ParseBool``; any
  other value is an error;
- any other flag takes what follows ``=``, or else the next word, whatever it looks like;
- reading stops at the first word that is not a flag (``-`` alone, or a word not starting with ``-``)
  and after ``--``: later words are arguments, never flags;
- ``---x``, ``-=x``, an undefined flag, a flag that needs a value at the end: errors (the server
  does not start); ``-h`` and ``-help`` ask for help;
- a flag given twice keeps its last value.

Dev mode is ``-dev`` true at the end, or one of the flags the server reads as implying it
(``DEV_MODE_FLAGS``). The pack knows every ``dev``/``dev-*`` flag of both servers with its kind, and
their other flags it has read; a flag it does not know may be a bool or take a value, so it is read both
ways, and dev mode in either reading counts (a flag the server does not define stops it instead: the
pack reads more than the server would, never less).

Sources read (names and kinds only): OpenBao's ``internal/command/server.go``, ``base.go`` and
``log_flags.go`` (main after v2.6.0-beta20260622), Vault's ``command/server.go`` (a 1.20+ copy; older ones
have ``-dev-three-node`` and ``-dev-four-cluster``), each ``Run``'s "automatically enable dev mode" line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Bool flags that leave the server in dev mode when true: -dev, and those Run turns into -dev.
DEV_MODE_FLAGS = frozenset(
    {
        "dev",
        "dev-tls",
        "dev-ha",
        "dev-transactional",
        "dev-leased-kv",
        "dev-three-node",
        "dev-four-cluster",
        "dev-auto-seal",
        "dev-kv-v1",
        "dev-no-kv",
        "dev-consul",
    }
)
# The servers' other bool flags: dev-* ones that do not start dev mode by themselves, and the rest.
OTHER_BOOL_FLAGS = frozenset(
    {
        "dev-no-store-token",
        "dev-plugin-init",
        "dev-skip-init",
        "recovery",
        "exit-on-core-shutdown",
        "test-verify-only",
        "test-server-config",
        "combine-logs",
    }
)
# Flags that take a value (string, slice, int or duration flags).
VALUE_FLAGS = frozenset(
    {
        "config",
        "experiment",
        "pprof-dump-dir",
        "dev-tls-cert-dir",
        "dev-tls-san",
        "dev-root-token-id",
        "dev-listen-address",
        "dev-plugin-dir",
        "dev-latency",
        "dev-latency-jitter",
        "dev-cluster-json",
        "log-level",
        "log-format",
        "log-file",
        "log-rotate-bytes",
        "log-rotate-duration",
        "log-rotate-max-files",
    }
)
BOOL_FLAGS = DEV_MODE_FLAGS | OTHER_BOOL_FLAGS

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_bool(value: str) -> bool | None:
    """``strconv.ParseBool``: the value, or None where Go returns an error."""
    return True if value in _TRUE else False if value in _FALSE else None


class FlagError(ValueError):
    """Go's flag package refuses the words (the server prints the error and exits) at ``words[index]``."""

    def __init__(self, index: int, word: str, message: str):
        super().__init__(message)
        self.index = index
        self.word = word


class Unreadable(ValueError):
    """A word the flags reach may become other words before the server sees it (a shell expansion); ``flag``: the flag
    whose value it is, when it stands as the word after one (``-dev-root-token-id $X``)."""

    def __init__(self, index: int, word: str, flag: str | None = None):
        super().__init__(f"word {index} may expand into other words")
        self.index = index
        self.word = word
        self.flag = flag


@dataclass(frozen=True)
class _State:
    at: int  # the next word to read
    on: frozenset[str]  # the dev-mode flags true so far


def dev_flags(words: Sequence[str], opaque: Callable[[str], bool] = lambda _: False) -> tuple[str, ...]:
    """The dev-mode flags ``server`` leaves true after reading ``words`` (its arguments); empty: not dev mode.

    ``opaque(word)`` says a word may expand into other words (a shell's ``$X``): reaching one while flags
    are read raises ``Unreadable``. Raises ``FlagError`` when every reading of the words is an error in Go.
    """
    pending, seen = [_State(0, frozenset())], set()
    endings: list[frozenset[str]] = []
    errors: list[FlagError] = []
    while pending:
        state = pending.pop()
        if state in seen:
            continue
        seen.add(state)
        try:
            following = _step(words, state, opaque)
        except FlagError as error:
            errors.append(error)
            continue
        if following is None:
            endings.append(state.on)
        else:
            pending.extend(following)
    if not endings:
        raise errors[0]
    return tuple(sorted(frozenset().union(*endings)))


def _step(words: Sequence[str], state: _State, opaque: Callable[[str], bool]) -> list[_State] | None:
    """The readings after one more word (several for a flag of unknown kind); None where flags end."""
    at, on = state.at, state.on
    if at >= len(words):
        return None
    word = words[at]
    if opaque(word):
        raise Unreadable(at, word)
    if len(word) < 2 or word[0] != "-" or word == "--":
        return None
    name, has_value, value = word[2 if word[1] == "-" else 1 :].partition("=")
    if not name or name[0] == "-":
        raise FlagError(at, word, f"bad flag syntax: {word}")
    if name in BOOL_FLAGS:
        truth = parse_bool(value) if has_value else True
        if truth is None:
            raise FlagError(at, word, f"invalid boolean value {value!r} for -{name}")
        if name in DEV_MODE_FLAGS:
            on = on | {name} if truth else on - {name}
        return [_State(at + 1, on)]
    if name in ("h", "help"):
        raise FlagError(at, word, f"-{name}: help requested")
    if has_value:
        return [_State(at + 1, on)]
    takes_next = _value_word(words, state, opaque)
    if name in VALUE_FLAGS:
        if takes_next is None:
            raise FlagError(at, word, f"flag needs an argument: -{name}")
        return [takes_next]
    # Not a flag the pack knows: a bool (nothing more to read) or a flag taking the next word.
    return [_State(at + 1, on)] + ([takes_next] if takes_next else [])


def _value_word(words: Sequence[str], state: _State, opaque: Callable[[str], bool]) -> _State | None:
    """The reading after the flag at ``state.at`` takes the next word as its value (None: there is none)."""
    at = state.at + 1
    if at >= len(words):
        return None
    if opaque(words[at]):
        raise Unreadable(at, words[at], flag=words[state.at])
    return _State(at + 1, state.on)
