"""How many values a YAML document expands to through its aliases.

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
