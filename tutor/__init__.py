"""ODE tutor library: parse, classify, solve step by step, and check answers.

``tutor`` never imports gradio or the training package.
"""
from tutor.checker import Verdict, check
from tutor.engine import Solution, solve
from tutor.errors import ParseError
from tutor.format import Sections, parse_sections, serialize
from tutor.parser import parse, parse_answer
from tutor.problem import Answer, InitialCondition, Problem
from tutor.profiles import ModelUnavailable, load_profile
from tutor.session import TutorSession
from tutor.system import SystemProblem

__all__ = ["Answer", "InitialCondition", "ModelUnavailable", "ParseError", "Problem", "Sections", "Solution",
           "SystemProblem", "TutorSession", "Verdict", "check", "load_profile", "parse", "parse_answer", "parse_sections",
           "serialize", "solve"]
