"""Layer 1: the data structures of a static graph (types, Node, OpDef, Graph), no math."""

from .graph import CompressedGraph, Graph
from .node import ConstValue, Node, intern, interned, params_key, paused_gc
from .opdef import REGISTRY, OpDef, Registry
from .traversal import consumers, descendants, toposort

__all__ = ["Graph", "CompressedGraph", "Node", "ConstValue", "intern", "interned", "params_key",
           "paused_gc", "REGISTRY", "OpDef", "Registry", "consumers", "descendants", "toposort"]
