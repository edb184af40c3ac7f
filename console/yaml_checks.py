"""Checks shared by the YAML documents that come from outside (build specs, custom headers):
where a path's node is, and how many values a document expands to through its aliases.

A few lines of anchors and aliases can expand to billions of values ("billion laughs"):
documents from outside (build specs, custom headers) are sized before they are turned
into Python objects. Counted on the composed node graph, where an alias is the same
node object again, so each node is sized once and the count costs what the file is long.
"""

from __future__ import annotations

import yaml


class AliasLoop(ValueError):
    """An alias refers to the value that contains it."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line}: an alias refers to the value that contains it")
        self.line = line


def expanded_size(root: yaml.Node | None, cap: int) -> int:
    """The number of values `root` stands for, counted up to cap + 1 (more is not needed)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise AliasLoop(node.start_mark.line + 1)
        open_nodes.add(key)
        if isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in node.value)
        else:
            total = 1
        open_nodes.discard(key)
        sizes[key] = min(total, cap + 1)
        return sizes[key]

    return 0 if root is None else size(root)


def line_of(node: yaml.Node | None, path: list[str | int]) -> int | None:
    """The 1-based line of the node at `path` (mapping keys, list indexes), or of its nearest existing parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
