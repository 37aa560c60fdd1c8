"""The one YAML reader of the project: PyYAML's safe loader with bounds on what a document may expand to.

A few hundred bytes of anchors and aliases (``a: &a [x, x]``, ``b: &b [*a, *a]``,
...) describe a document of billions of nodes: PyYAML shares the nodes, but every
walk over them (validation, reference scanning, dumping) expands them and never
ends. Deeply nested flow collections (``[[[[...]]]]``) exhaust Python's recursion
instead. Stack files, consumer files and render output are all read here, and a
document is refused, with the line where the problem starts, when

- it nests deeper than :data:`MAX_DEPTH` levels (aliases included),
- its aliases would add more than :data:`MAX_ALIAS_EXPANSION` nodes beyond the
  nodes written in the file (normal reuse of an anchor stays far below that), or
- an alias refers to a collection that contains it (a recursive anchor).

The check is linear in the file's size: the expanded size of every node is
computed once. The error is a :class:`yaml.MarkedYAMLError`, so callers that
already report YAML errors with file and line report these the same way.
"""

from __future__ import annotations

from typing import Any, Iterator

import yaml

MAX_DEPTH = 100
MAX_ALIAS_EXPANSION = 100_000


class UnsafeYamlError(yaml.MarkedYAMLError):
    """A document refused for its shape (alias bomb, recursion, nesting), not its syntax."""


# libyaml's parser when PyYAML was built with it (PyYAML's wheels are): same safe
# constructor, a tenth of the time, and its own cap of 1000 nesting levels.
_BASE = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


class BoundedLoader(_BASE):  # type: ignore[misc, valid-type]
    """A safe loader that refuses alias-expansion bombs, recursive anchors and deep nesting."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        # The pure-Python composer recurses once per level: stop it before Python's limit.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise UnsafeYamlError(None, None, f"nests deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            check_node(node)
        return node

    def get_node(self):
        node = super().get_node()
        if node is not None:
            check_node(node)
        return node


def check_node(root: yaml.Node) -> None:
    """Raise :class:`UnsafeYamlError` when ``root`` expands too far, too deep, or into itself."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
    active: set[int] = set()
    distinct = 0

    def visit(node: yaml.Node, depth: int) -> tuple[int, int]:
        nonlocal distinct
        key = id(node)
        if key in active:
            raise UnsafeYamlError(
                None, None, "has an alias that refers to a collection containing it (a recursive anchor)", node.start_mark
            )
        done = sizes.get(key)
        if done is None:
            distinct += 1
            size, height = 1, 1
            if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
                if depth >= MAX_DEPTH:
                    raise UnsafeYamlError(None, None, f"nests deeper than {MAX_DEPTH} levels (aliases included)", node.start_mark)
                active.add(key)
                children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
                for child in children:
                    s, h = visit(child, depth + 1)
                    size += s
                    height = max(height, h + 1)
                    if size - distinct > MAX_ALIAS_EXPANSION:
                        raise UnsafeYamlError(
                            None,
                            None,
                            f"has aliases that expand to more than {MAX_ALIAS_EXPANSION:,} nodes (an alias bomb)",
                            node.start_mark,
                        )
                active.discard(key)
            done = sizes[key] = (size, height)
        elif depth + done[1] > MAX_DEPTH:
            raise UnsafeYamlError(None, None, f"nests deeper than {MAX_DEPTH} levels (aliases included)", node.start_mark)
        return done

    visit(root, 0)


def load(text: str) -> Any:
    """One document, like ``yaml.safe_load``, bounded."""
    return yaml.load(text, Loader=BoundedLoader)  # noqa: S506 - a SafeLoader subclass


def load_all(text: str) -> Iterator[Any]:
    """Every document, like ``yaml.safe_load_all``, bounded."""
    return yaml.load_all(text, Loader=BoundedLoader)  # noqa: S506 - a SafeLoader subclass


def compose_all(text: str) -> Iterator[yaml.Node]:
    """Every document's node graph (with line marks), bounded."""
    return yaml.compose_all(text, Loader=BoundedLoader)


def describe(err: yaml.YAMLError) -> tuple[int | None, str]:
    """(1-based line or None, one-line reason) of a YAML error, for messages that name file and line."""
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        reason = err.problem or err.context or "malformed YAML"
        if err.context and err.problem and not isinstance(err, UnsafeYamlError):
            reason = f"{err.context}, {err.problem}"
        return (mark.line + 1 if mark else None), reason
    if isinstance(err, yaml.reader.ReaderError):
        return None, f"not a text file (character {err.character!r} at byte {err.position})"
    return None, str(err).splitlines()[0] if str(err) else "malformed YAML"


def located(name: str, err: yaml.YAMLError) -> tuple[str, str]:
    """(``<name>:<line>``, or ``name`` when the line is unknown; the reason) of a YAML error in file ``name``."""
    line, reason = describe(err)
    return (f"{name}:{line}" if line else name), reason
