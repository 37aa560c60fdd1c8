"""Where a container starts Vault's or OpenBao's server, and whether in dev mode, read as the container runs.

A container runs ``command + args`` (its image's entrypoint and command where it sets none). In that
argv, and in every shell script it runs, a server is started by a word naming ``vault`` or ``bao``
(any directory; wrappers before it, ``exec``, ``env X=1``, the images' ``docker-entrypoint.sh vault``,
change nothing) followed by ``server``; the images' ``docker-entrypoint.sh server`` starts one too.
Dash words between the program and ``server`` are skipped (the CLI refuses them; the pack reads on).
The words after ``server`` are its flags, read by ``policies.argv`` (Go's rules).

Scripts are read with ``policies.shell``: a shell's ``-c`` script (``sh``, ``bash``..., found anywhere
in a command: ``nohup sh -c``, ``busybox sh -c``) and ``eval``'s words are read as scripts that run;
any other word holding a blank may be one (``su -c '...'``, ``"$(vault server -dev)"``), so a server
found in it is judged too, but nothing else in it is refused.

What the pack cannot read, it refuses (a ``Finding`` with a problem), conservatively:
- a word the shell may expand (``$X``, ``$(...)``, backticks, ``*``, ``?``, ``[...]``, ``{a,b}``) in a server's command, up to
  where its flags end; in an argv without a shell, a ``$(VAR)`` Kubernetes expands;
- a command of a running script whose program is an expansion (``$CMD``, ``exec "$@"``): it may be the server;
- a script ``shlex`` cannot read (a quote left open), flags Go refuses (``-dev=maybe``), scripts nested
  deeper than ``MAX_DEPTH``.
An expansion in any other command (``sed "s|HOST_IP|${HOST_IP?}|g"``) is not the server's business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from secrets_platform.policies import argv, shell
from secrets_platform.policies.values import artifact_name

SERVER_PROGRAMS = frozenset({"vault", "bao"})
ENTRYPOINT = "docker-entrypoint.sh"  # the images' entrypoint: 'server ...' runs '<program> server ...'
SHELLS = frozenset({"sh", "bash", "ash", "dash", "ksh", "mksh", "zsh"})
# The servers' images (hashicorp/vault, openbao/openbao and their variants) and the command they run by default.
SERVER_IMAGES = frozenset({"vault", "vault-enterprise", "openbao", "openbao-ubi", "openbao-hsm", "openbao-hsm-ubi"})
IMAGE_COMMAND = ("server", "-dev")
MAX_DEPTH = 6

EXPANDS = (
    "the shell may expand this word into other words before the server reads its flags, so dev mode may be on",
    "write the server's command and flags literally (for the vault chart: server.extraArgs without $, `, *, ?, [...] or {a,b})",
)
K8S_EXPANDS = (
    "Kubernetes replaces $(VAR) in command and args with the variable's value before the server reads its flags",
    "write the server's flags literally in command/args",
)
PROGRAM_EXPANDS = (
    "this command's program is an expansion, so it may start the server with any flags",
    "run the server (and every program of the script) by its name, with literal flags",
)
UNPARSED = ("the shell script cannot be read (a quote left open, or a backslash at its end)", "close the quote")
TOO_DEEP = (f"scripts nest deeper than {MAX_DEPTH} levels", "run the server from a flat script")
FLAG_FIX = "write the flag as the server reads it (e.g. '-dev=false', or no dev flag at all)"

_RESERVED = frozenset({"!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time"})
_COMPOUND = frozenset({"for", "case", "select", "in", "esac"})
_WRAPPERS = frozenset({"exec", "command", "builtin", "nohup", "env"})


@dataclass(frozen=True)
class Finding:
    """Dev mode (``problem`` empty; ``word`` names the flags), or what the pack cannot read and how to fix it."""

    field: str
    word: str  # empty: the whole script
    problem: str = ""
    fix: str = ""


@dataclass(frozen=True)
class _Context:
    """How the words being read are judged: where they are, how deep, and which words the pack cannot read."""

    fields: tuple[str, ...]  # each word's container field (an argv), or one field for all (a script)
    depth: int
    runs: bool  # the text surely runs (an argv, a shell's -c script, eval's words); False: a word that may be a script
    flag_opaque: Callable[[str], bool]  # a word that may become other words where the server reads flags
    program_opaque: Callable[[str], bool]  # a program word that may become another program
    expands: tuple[str, str]  # why such a word is refused, and the fix

    def field(self, index: int) -> str:
        return self.fields[min(index, len(self.fields) - 1)]

    def refuse(self, index: int, word: str, why: tuple[str, str]) -> Finding:
        return Finding(self.field(index), word, *why)

    def script(self, index: int, runs: bool) -> _Context:
        """The context of a script held by the word at ``index``."""
        return _Context((self.field(index),), self.depth + 1, self.runs and runs, shell.may_expand, shell.is_expansion, EXPANDS)


def _k8s_expansion(word: str) -> bool:
    return "$(" in word.replace("$$", "")


def container_findings(command: Sequence[str], args: Sequence[str], image: str, where: str) -> list[Finding]:
    """What the pack finds in one container (``where``: its path in the object): dev mode, or what it cannot read."""
    words = list(command) + list(args)
    fields = [f"{where}.command[{i}]" for i in range(len(command))] + [f"{where}.args[{i}]" for i in range(len(args))]
    if not command and artifact_name(image) in SERVER_IMAGES:
        words = [ENTRYPOINT] + (words or list(IMAGE_COMMAND))
        fields = [f"{where}.image"] + (fields or [f"{where}.image"] * len(IMAGE_COMMAND))
    if not words:
        return []
    context = _Context(tuple(fields), 0, True, _k8s_expansion, _k8s_expansion, K8S_EXPANDS)
    return list(_command(tuple(words), context))


def script_findings(script: str, field: str) -> list[Finding]:
    """What the pack finds in a shell script that runs (``field`` holds it)."""
    return list(_script(script, _Context((field,), 0, True, shell.may_expand, shell.is_expansion, EXPANDS)))


def _base(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _script(text: str, context: _Context) -> Iterator[Finding]:
    if context.depth > MAX_DEPTH:
        if context.runs:
            yield context.refuse(0, "", TOO_DEEP)
        return
    try:
        found = shell.commands(text)
    except shell.ScriptError:
        if context.runs or _names_a_server(text.split()):
            yield context.refuse(0, "", UNPARSED)
        return
    for words in found:
        yield from _command(words, context)


def _command(words: tuple[str, ...], context: _Context) -> Iterator[Finding]:
    """One command: the servers it starts, the program it runs, the scripts it runs or may run."""
    yield from _servers(words, context)
    program = _program(words)
    if context.runs and program is not None and context.program_opaque(words[program]):
        yield context.refuse(program, words[program], PROGRAM_EXPANDS)
    scripts = _scripts_run(words, program)
    for index, text in scripts.items():
        yield from _script(text, context.script(index, runs=True))
    for index, word in enumerate(words):
        if index not in scripts and any(blank in word for blank in " \t\n"):
            yield from _script(word, context.script(index, runs=False))


def _servers(words: tuple[str, ...], context: _Context) -> Iterator[Finding]:
    """Each server the command starts, judged by its flags."""
    for index in range(len(words)):
        subcommand = _subcommand_at(words, index)
        if subcommand is None:
            continue
        if words[subcommand] != "server":
            if context.runs and context.flag_opaque(words[subcommand]):
                yield context.refuse(subcommand, words[subcommand], context.expands)  # 'vault "$@"'
            continue
        before = next((i for i in range(subcommand) if context.flag_opaque(words[i])), None)
        if before is not None:
            yield context.refuse(before, words[before], context.expands)
            continue
        try:
            on = argv.dev_flags(words[subcommand + 1 :], context.flag_opaque)
        except argv.Unreadable as error:
            # A flag's value is shown as '<flag>=<value>', so a message hides it as it hides any credential's value.
            word = f"{error.flag}={error.word}" if error.flag else error.word
            yield context.refuse(subcommand + 1 + error.index, word, context.expands)
        except argv.FlagError as error:
            yield context.refuse(subcommand + 1 + error.index, error.word, (f"Go's flag package refuses it ({error})", FLAG_FIX))
        else:
            if on:
                yield Finding(context.field(subcommand), " ".join(f"-{name}" for name in on))


def _subcommand_at(words: Sequence[str], index: int) -> int | None:
    """Where the subcommand is when ``words[index]`` names a server program (dash words skipped), else None."""
    base = _base(words[index])
    if base not in SERVER_PROGRAMS and base != ENTRYPOINT:
        return None
    at = index + 1
    while at < len(words) and words[at].startswith("-"):
        at += 1
    if at >= len(words):
        return None
    return at


def _names_a_server(words: Sequence[str]) -> bool:
    """Whether words that cannot be read as a script name a server (``vault ... server``), split on blanks."""
    return any((at := _subcommand_at(words, i)) is not None and words[at] == "server" for i in range(len(words)))


def _program(words: Sequence[str]) -> int | None:
    """Where the program of a simple command is (assignments, reserved words and wrappers skipped); None for none."""
    wrapped = False
    for index, word in enumerate(words):
        if word in _COMPOUND and not wrapped:
            return None
        if word in _RESERVED or _is_assignment(word) or (wrapped and word.startswith("-")):
            continue
        if word in _WRAPPERS:
            wrapped = True
            continue
        return index
    return None


def _is_assignment(word: str) -> bool:
    name, equals, _ = word.partition("=")
    return bool(equals) and name.isidentifier() and name.isascii()


def _scripts_run(words: Sequence[str], program: int | None) -> dict[int, str]:
    """The scripts a command runs, by the index of the word holding them: eval's words, a shell's ``-c`` script."""
    if program is not None and words[program] == "eval":
        return {program + 1: " ".join(words[program + 1 :])} if program + 1 < len(words) else {}
    for index, word in enumerate(words):
        if _base(word) in SHELLS:
            operand = _shell_script_operand(words, index)
            if operand is not None:
                return {operand: words[operand]}
    return {}


def _shell_script_operand(words: Sequence[str], shell_at: int) -> int | None:
    """The index of the script of ``sh [options] -c script``: the first operand after the options, if one has c."""
    at, has_c = shell_at + 1, False
    while at < len(words):
        word = words[at]
        if word == "--":
            at += 1
            break
        if word in ("-o", "+o", "--rcfile", "--init-file"):
            at += 2
        elif word.startswith("--"):
            at += 1
        elif len(word) > 1 and word[0] in "-+":
            has_c = has_c or (word[0] == "-" and "c" in word[1:])
            at += 1
        else:
            break
    return at if has_c and at < len(words) else None
