"""Layer 4: numbers. Runs any graph on numpy inputs; knows nothing about differentiation."""

from .batched import BatchedProgram
from .program import Program, Schedule, check_result, check_value, fresh_outputs
from .run import evaluate

__all__ = ["BatchedProgram", "Program", "Schedule", "check_result", "check_value",
           "evaluate", "fresh_outputs"]
