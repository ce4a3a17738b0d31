"""What a reply's Classification and Hint claim, read as facts, and where the engine disagrees.

A model's Classification states an order, linearity and the methods that apply; its Hint names
a method.  These readers turn that prose into facts (without evaluating anything the model
wrote), so that

* the evaluation scores them against the engine's facts stored with each example
  (``training/evaluate.py``: classification and hint accuracy), and
* the app flags a model's Classification or Hint that the engine's own classification
  contradicts (:func:`contradictions`; issue 15: a wrong method must not read as teaching).

Both use the same readers, so "the model named method X" means one thing everywhere.

Usage::

    read_classification("Second order, linear.")          # {"order": 2, "linear": True}
    hint_names("bernoulli", "Substitute v = y^{1-n}.")     # False (the pattern wants "bernoulli")
    contradictions(sections, classify(problem))            # {"Hint": "The hint's method ..."}
"""
from __future__ import annotations

import re
from typing import Any

from tutor.format import CLASSIFICATION, HINT, Sections

_ORDER_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth"}
#: Where a Classification lists the methods that apply (the engine's wording, which models learn).
_METHODS_LIST = re.compile(r"methods? (?:that )?appl(?:y|ies)\s*:?(?P<names>.*)", re.IGNORECASE | re.DOTALL)


def _method(family: str):
    from tutor.engine.registry import get

    try:
        return get(family)
    except KeyError:
        return None


def _system_family(family: str):
    """The linear-system module when ``family`` is its id (systems are no registry method)."""
    from tutor.engine.methods import linear_system

    return linear_system if family == linear_system.ID else None


def _method_name(family: str) -> str:
    method = _method(family)
    if method is not None:
        return method.name
    system = _system_family(family)
    return system.NAME if system is not None else family.replace("_", " ")


def hint_names(family: str, hint: str) -> bool:
    """Whether ``hint`` names the method of ``family``: its id or display name, or the method's own
    ``hint_pattern`` (the method owns its hint wording, so it says how to recognise it)."""
    text = hint or ""
    name = _method_name(family)
    if name.split(" (")[0].lower() in text.lower() or family.replace("_", " ") in text.lower():
        return True
    method = _method(family)
    system = _system_family(family)
    pattern = method.hint_pattern if method is not None else system.HINT_PATTERN if system is not None else None
    must, must_not = pattern or (re.escape(family), None)
    return bool(re.search(must, text, re.IGNORECASE)) and not (
        must_not and re.search(must_not, text, re.IGNORECASE))


def read_classification(text: str) -> dict[str, Any]:
    """Order and linearity stated in a Classification section (None when not stated)."""
    lowered = (text or "").lower()
    order = None
    m = re.search(r"\b(first|second|third|fourth)[ -]order|\border[- ](\d+)|\b(\d+)(?:st|nd|rd|th)[ -]order", lowered)
    if m:
        order = _ORDER_WORDS.get(m.group(1)) if m.group(1) else int(m.group(2) or m.group(3))
    linear = (False if re.search(r"\bnon-?linear\b|\bnot linear\b", lowered)
              else True if re.search(r"\blinear\b", lowered) else None)
    return {"order": order, "linear": linear}


def names_type(family: str, classification: str) -> bool:
    """Whether the Classification names the family's method: its display name, with or without
    the parenthetical ("Bernoulli equation"), as a whole phrase ("non-exact equation" does not
    name the exact method), or its id when that is not a plain word (``first_order_linear``)."""
    text = classification or ""
    short = _method_name(family).split(" (")[0]
    return bool(re.search(rf"(?<![\w-]){re.escape(short)}(?!\w)", text, re.IGNORECASE)) or ("_" in family and family in text)


def listed_methods(classification: str) -> tuple[str, ...]:
    """The registered methods a Classification lists after "Methods that apply:" (none without that list)."""
    from tutor.engine.registry import methods

    m = _METHODS_LIST.search(classification or "")
    if m is None:
        return ()
    return tuple(method.id for method in methods() if names_type(method.id, m.group("names")))


def hinted_methods(hint: str) -> tuple[str, ...]:
    """The registered methods a Hint names."""
    from tutor.engine.registry import methods

    return tuple(method.id for method in methods() if hint_names(method.id, hint))


def _names(families) -> str:
    return ", ".join(_method_name(f).split(" (")[0] for f in families)


def contradictions(sections: Sections, engine) -> dict[str, str]:
    """Section name -> why the engine's classification (``engine``: a
    :class:`tutor.engine.Classification`) contradicts what that section of a reply says.

    Only what the reply states plainly is compared (an order, "linear"/"nonlinear", the methods
    listed as applying, the method the hint names); a section that states nothing readable is
    not flagged.  A hint is judged only against a non-empty method list: when the engine knows no
    textbook method for the equation it cannot say the hint's method is wrong.
    """
    if engine is None:
        return {}
    flags: dict[str, str] = {}
    if sections.classification.strip():
        said, why = read_classification(sections.classification), []
        if said["order"] is not None and said["order"] != engine.order:
            why.append(f"The model says {_ORDINALS.get(said['order'], said['order'])} order; "
                       f"the engine finds order {engine.order}.")
        if said["linear"] is not None and said["linear"] != engine.linear:
            words = ("linear", "nonlinear") if said["linear"] else ("nonlinear", "linear")
            why.append(f"The model calls the equation {words[0]}; the engine finds it {words[1]}.")
        foreign = [f for f in listed_methods(sections.classification) if f not in engine.types]
        if foreign:
            why.append(f"The model lists {_names(foreign)} among the methods that apply; "
                       "the engine's classification does not.")
        if why:
            flags[CLASSIFICATION] = " ".join(why)
    hinted = hinted_methods(sections.hint) if sections.hint.strip() else ()
    if hinted and engine.types and not set(hinted) & set(engine.types):
        flags[HINT] = (f"The hint suggests {_names(hinted)}; the engine finds that "
                       f"{_names(engine.types)} {'applies' if len(engine.types) == 1 else 'apply'} here.")
    return flags
