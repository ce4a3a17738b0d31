"""ODE tutor library: parse, classify, solve step by step, and check answers.

``tutor`` never imports gradio or the training package.
"""
from tutor.checker import Verdict, check
from tutor.engine import Solution, solve
from tutor.errors import ParseError
from tutor.parser import parse, parse_answer
from tutor.problem import Answer, InitialCondition, Problem

__all__ = ["Answer", "InitialCondition", "ParseError", "Problem", "Solution", "Verdict", "check", "parse",
           "parse_answer", "solve"]
