"""Layer 4: numbers. Runs any graph on numpy inputs; knows nothing about differentiation."""

from .program import Program, check_value, compile, evaluate

__all__ = ["Program", "check_value", "compile", "evaluate"]
