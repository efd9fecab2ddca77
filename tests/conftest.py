"""Test-suite settings: the evaluator's checking mode is on for every test (each instruction's
value must have its node's declared dtype and shape)."""

from symgrad.evaluate import program

program.CHECK = True
