"""Would KaTeX render this formula?  A conservative check in Python, before a formula reaches the page.

The app's Markdown renders ``$...$`` with KaTeX (0.16.27, bundled in Gradio 6.31's Markdown), and a formula KaTeX cannot
parse shows as red error text.  A model's reply can hold such formulas (``\\frac{x}`` with a
missing argument, unbalanced braces or ``\\left``/``\\right``, commands KaTeX does not know), so
:mod:`tutor.render` asks :func:`formula_error` about every formula it shows and shows a refused
one as code instead.

The check reads the formula the way KaTeX's parser does, in miniature: groups; ``^``/``_`` and
primes with their argument, and no double script; commands from a whitelist of commands KaTeX
knows, each with its arguments (``\\frac`` two, ``\\sqrt`` an optional ``[n]`` and one, text
commands one in text mode, where ``^``, ``_`` and math commands are errors); ``\\left``,
``\\middle`` and ``\\right`` with a delimiter each, properly nested; ``\\begin``/``\\end``
environments (``&`` only directly inside one, display-only environments only in display math);
``#``, ``%`` (a comment) and unescaped ``$`` never.  It errs on the side of refusing: a command
outside the whitelist, or an argument written in a way that KaTeX reads differently from TeX (a
command with arguments as the unbraced argument of another), is refused even where KaTeX might
cope; code is harmless, a red error is not.  ``tests/test_app_browser.py`` checks the verdicts against the
KaTeX that the page itself loads.

Usage::

    from tutor.katex import formula_error
    formula_error(r"\\frac{x}")          # 'missing argument 2 of \\frac'
    formula_error(r"\\frac{dy}{dx} = y")  # None: it renders
"""
from __future__ import annotations

import re

_words = str.split

#: Greek letters and letter-like symbols: also fine as the unbraced argument of a command.
LETTERS = frozenset(_words("""
    alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu
    nu xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega digamma
    Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega
    ell hbar hslash aleph beth gimel Re Im wp partial nabla infty emptyset varnothing
    R N Z Reals natnums Complex
"""))
#: Operator names such as ``\\sin`` (KaTeX puts limits on some of them; ``\\limits`` may follow).
OPERATORS = frozenset(_words("""
    sin cos tan cot sec csc arcsin arccos arctan sinh cosh tanh coth log ln lg exp
    lim liminf limsup max min sup inf det deg dim gcd hom ker arg Pr
    int iint iiint oint sum prod coprod bigcup bigcap bigoplus bigotimes bigodot bigsqcup
    biguplus bigvee bigwedge
"""))
#: Commands without arguments that KaTeX knows in math mode.
SYMBOLS = LETTERS | OPERATORS | frozenset(_words("""
    pm mp times div cdot ast star circ bullet oplus ominus otimes oslash odot cap cup sqcap sqcup
    uplus setminus smallsetminus wedge vee land lor lnot neg amalg wr
    leq le geq ge neq ne leqslant geqslant approx approxeq equiv sim simeq cong propto ll gg
    lesssim gtrsim prec succ preceq succeq doteq asymp models vdash dashv
    subset subseteq supset supseteq subsetneq supsetneq in notin ni mid nmid parallel nparallel
    perp forall exists nexists complement
    to rightarrow leftarrow Rightarrow Leftarrow leftrightarrow Leftrightarrow longrightarrow
    longleftarrow Longrightarrow Longleftarrow longleftrightarrow Longleftrightarrow iff implies
    impliedby mapsto longmapsto gets uparrow downarrow updownarrow Uparrow Downarrow Updownarrow
    nearrow searrow nwarrow swarrow hookrightarrow hookleftarrow rightharpoonup rightleftharpoons
    top bot angle measuredangle triangle triangleleft triangleright square Box diamond Diamond
    dagger ddagger checkmark degree prime backprime therefore because
    dots ldots cdots vdots ddots dotsb dotsc dotsm dotso colon cdotp ldotp bmod
    quad qquad thinspace medspace thickspace negthinspace enspace
    langle rangle lvert rvert lVert rVert vert Vert lfloor rfloor lceil rceil lbrace rbrace
    lbrack rbrack lgroup rgroup backslash surd
    displaystyle textstyle scriptstyle scriptscriptstyle rm bf it sf tt cal not S P dag copyright imath jmath
"""))
#: Symbols that may also be an unbraced superscript or subscript (``x^\\prime``, ``x^\\circ``);
#: KaTeX refuses operators, spaces, styles, macros and commands with arguments there.
SCRIPT_SYMBOLS = LETTERS | frozenset(_words("prime circ ast star dagger ddagger pm mp times cdot top bot perp"))
#: Commands with arguments: name -> the modes of their mandatory arguments ("math", "text",
#: "color"); those in ``OPTIONAL_ARGUMENT`` take an optional ``[...]`` first.
FUNCTIONS: dict[str, tuple[str, ...]] = {
    **{name: ("math", "math") for name in _words(
        "frac dfrac tfrac cfrac binom dbinom tbinom overset underset stackrel")},
    **{name: ("math",) for name in _words("""
        sqrt hat widehat bar overline underline tilde widetilde vec dot ddot dddot breve check acute
        grave mathring overrightarrow overleftarrow overleftrightarrow underbrace overbrace boxed
        cancel bcancel xcancel phantom hphantom vphantom pmod mod
        mathrm mathbf mathit mathsf mathtt mathcal mathbb mathfrak mathscr boldsymbol bm mathop
        operatorname xrightarrow xleftarrow""")},
    **{name: ("text",) for name in _words("text textrm textbf textit textsf texttt textnormal emph hbox")},
    "color": ("color",),
    "textcolor": ("color", "math"),
}
#: Commands that take an optional ``[...]`` argument first.
OPTIONAL_ARGUMENT = frozenset(_words("sqrt xrightarrow xleftarrow"))
#: Commands allowed inside ``\\text{...}``.
TEXT_COMMANDS = frozenset(_words("text textrm textbf textit textsf texttt textnormal emph quad qquad ldots"))
#: ``\\big(``: a size, then a delimiter.
SIZES = frozenset(_words("big Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr bigm Bigm biggm Biggm"))
#: What may follow ``\\left``, ``\\middle``, ``\\right`` or a size.
DELIMITER_CHARS = frozenset("()[]|/.<>")
DELIMITER_COMMANDS = frozenset(_words("""
    { } | langle rangle lvert rvert lVert rVert vert Vert lfloor rfloor lceil rceil lbrace rbrace
    lbrack rbrack lgroup rgroup uparrow downarrow updownarrow Uparrow Downarrow Updownarrow backslash
"""))
#: Environments: allowed everywhere, and only in display math (KaTeX refuses them inline).
ENVIRONMENTS = frozenset(_words("matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases dcases "
                                "rcases aligned gathered array"))
DISPLAY_ENVIRONMENTS = frozenset(_words("align align* split"))
#: ``\\,`` and friends: a backslash and one non-letter.  ``\\$`` is refused: Gradio pairs dollar
#: signs before KaTeX sees them, escaped or not.
CONTROL_SYMBOLS = frozenset(list(",;:!> {}|%&#_") + ["\\"])
TEXT_CONTROL_SYMBOLS = frozenset(list(",;:! {}%&#_"))

_TOKEN = re.compile(r"\\(?:[A-Za-z@]+|.?)|%[^\n]*|\s+|.", re.DOTALL)
_COLOR = re.compile(r"#[0-9a-fA-F]{3,8}|[A-Za-z]+")
_COLUMNS = re.compile(r"[lcr|:\s]+")


class FormulaError(ValueError):
    """Why KaTeX would not render a formula (a short reason)."""


def formula_error(tex: str, display: bool = False) -> str | None:
    """Why KaTeX would refuse ``tex`` (a short reason), or None when it renders.

    ``display``: the formula is display math (``$$...$$``), where more environments are allowed.
    """
    try:
        _Reader(tex, display).read()
    except FormulaError as exc:
        return str(exc)
    except RecursionError:
        return "nested too deeply"
    return None


class _Reader:
    """A recursive-descent reading of one formula; raises FormulaError at the first problem."""

    def __init__(self, tex: str, display: bool):
        # White space means nothing to KaTeX here, except between primes: ``y' '`` is a double
        # superscript, so each token remembers a space before it.  A comment (``%`` to the end of
        # the line) is refused: KaTeX would drop the rest of the line, and the braces it hides
        # still count when the page looks for where the formula ends (it would then show raw text).
        self.tokens: list[str] = []
        self.spaced: list[bool] = []
        self.comment = False
        space = False
        for token in _TOKEN.findall(tex):
            if token.startswith("%"):
                self.comment = True
                continue
            if token.isspace():
                space = True
                continue
            self.tokens.append(token)
            self.spaced.append(space)
            space = False
        self.i = 0
        self.display = display

    # ------------------------------------------------------------------ tokens

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def adjacent(self, token: str) -> bool:
        """The next token is ``token``, with no space before it."""
        return self.peek() == token and not self.spaced[self.i]

    def take(self) -> str | None:
        token = self.peek()
        self.i += token is not None
        return token

    # ------------------------------------------------------------------ grammar

    def read(self) -> None:
        if self.comment:
            raise FormulaError("% starts a comment (a percent sign is \\%)")
        self.expression("math", closer=None, align=False)
        if self.peek() is not None:
            raise FormulaError(f"unexpected {self.peek()}")

    def expression(self, mode: str, closer: str | None, align: bool) -> None:
        """Atoms up to (not including) ``closer``: "}", "]", "\\right", "\\end" or None (the end)."""
        row_start = align  # \\hline may start a row of an environment
        while True:
            token = self.peek()
            if row_start and token == "\\hline":
                self.take()
                continue
            row_start = False
            if token is None:
                if closer is not None:
                    raise FormulaError(f"missing {closer}")
                return
            if token == closer or (closer == "\\right" and token == "\\middle"):
                return
            if token in ("}", "\\right", "\\end"):
                raise FormulaError(f"unexpected {token}")
            if token in ("&", "\\\\") and mode == "math":
                if token == "&" and not align:
                    raise FormulaError("& outside an environment")
                self.take()
                if token == "\\\\" and self.peek() == "[":  # \\[2pt]: KaTeX reads a size there
                    raise FormulaError("[ after \\\\")
                row_start = align and token == "\\\\"
                continue
            if mode == "text":
                self.text_atom()
            else:
                self.math_atom()

    def group(self, mode: str) -> None:
        """``{ ... }`` (the opening brace is next)."""
        self.take()
        self.expression(mode, "}", align=False)
        self.take()

    def math_atom(self) -> None:
        token = self.take()
        name = token[1:] if token.startswith("\\") else None
        if token == "{":
            self.i -= 1
            self.group("math")
        elif token in ("^", "_", "'"):
            self.i -= 1  # a script with an empty base
        elif name == "left":
            self.delimiter(token)
            self.expression("math", "\\right", align=False)
            while self.take() == "\\middle":
                self.delimiter("\\middle")
                self.expression("math", "\\right", align=False)
            self.delimiter("\\right")
        elif name == "begin":
            self.environment()
        elif name in SIZES:
            self.delimiter(token)
        elif name in OPERATORS:
            if self.peek() in ("\\limits", "\\nolimits"):
                self.take()
        elif name is not None:
            self.command(token)
        elif token in ("#", "$"):
            raise FormulaError(f"unescaped {token}")
        self.scripts()

    def scripts(self) -> None:
        """``^``, ``_`` and primes after an atom: one superscript and one subscript at most."""
        sup = sub = False
        while self.peek() in ("^", "_", "'"):
            token = self.take()
            if token == "_":
                if sub:
                    raise FormulaError("double subscript")
                sub = True
                self.argument("math", script=True)
                continue
            if sup:
                raise FormulaError("double superscript")
            sup = True
            if token == "^":
                self.argument("math", script=True)
            else:  # primes, optionally followed by one superscript that joins them
                while self.adjacent("'"):
                    self.take()
                if self.adjacent("^"):
                    self.take()
                    self.argument("math", script=True)

    def command(self, token: str) -> None:
        name = token[1:]
        if len(name) == 1 and not name.isalpha():
            if name not in CONTROL_SYMBOLS:
                raise FormulaError(f"unknown command {token}")
            return
        if name in SYMBOLS:
            return
        if name not in FUNCTIONS:
            raise FormulaError(f"unknown command {token}")
        if name in OPTIONAL_ARGUMENT and self.peek() == "[":
            self.take()
            self.expression("math", "]", align=False)
            self.take()
        for number, mode in enumerate(FUNCTIONS[name], start=1):
            if self.peek() in (None, "}", "&", "\\\\", "\\right", "\\end", "^", "_", "\\middle"):
                raise FormulaError(f"missing argument {number} of {token}")
            if mode == "color":
                self.color()
            else:
                self.argument(mode, script=False)

    def argument(self, mode: str, script: bool) -> None:
        """One argument: a group, a character, or (unbraced) a symbol; a script may be a command."""
        token = self.peek()
        if token is None or token in ("}", "&", "#", "$", "^", "_", "'", "\\\\", "\\right", "\\end", "\\middle"):
            raise FormulaError("missing argument" if token in (None, "}") else f"{token} cannot be an argument")
        if token == "{":
            self.group(mode)
            return
        self.take()
        if not token.startswith("\\"):
            return
        name = token[1:]
        if name in LETTERS or (len(name) == 1 and name in "{}|%&#_"):
            return
        if script and name in SCRIPT_SYMBOLS:
            return
        raise FormulaError(f"write {{{token}}} with braces as an argument")

    def color(self) -> None:
        if self.take() != "{":
            raise FormulaError("a color needs braces")
        spec = ""
        while self.peek() not in (None, "}"):
            spec += self.take()
        if self.take() != "}" or not _COLOR.fullmatch(spec):
            raise FormulaError(f"invalid color {spec!r}")

    def delimiter(self, after: str) -> None:
        token = self.take()
        if token is None or not (token in DELIMITER_CHARS or (token.startswith("\\") and token[1:] in DELIMITER_COMMANDS)):
            raise FormulaError(f"{after} needs a delimiter")

    def environment(self) -> None:
        name = self.braced_name("\\begin")
        if name not in ENVIRONMENTS and not (self.display and name in DISPLAY_ENVIRONMENTS):
            raise FormulaError(f"environment {name} " + ("only in display math" if name in DISPLAY_ENVIRONMENTS
                                                        else "is unknown"))
        if name == "array":
            if self.take() != "{":
                raise FormulaError("array needs its columns")
            columns = ""
            while self.peek() not in (None, "}"):
                columns += self.take()
            if self.take() != "}" or not _COLUMNS.fullmatch(columns):
                raise FormulaError("array needs its columns")
        self.expression("math", "\\end", align=True)
        self.take()
        if self.braced_name("\\end") != name:
            raise FormulaError(f"\\begin{{{name}}} ended by another environment")

    def braced_name(self, command: str) -> str:
        if self.take() != "{":
            raise FormulaError(f"{command} needs {{name}}")
        name = ""
        while self.peek() not in (None, "}"):
            name += self.take()
        if self.take() != "}":
            raise FormulaError(f"{command} needs {{name}}")
        return name

    def text_atom(self) -> None:
        token = self.take()
        if token == "{":
            self.i -= 1
            self.group("text")
        elif token in ("^", "_", "&", "#", "$", "\\\\"):
            raise FormulaError(f"{token} in text")
        elif token.startswith("\\"):
            name = token[1:]
            if len(name) == 1 and not name.isalpha():
                if name not in TEXT_CONTROL_SYMBOLS:
                    raise FormulaError(f"{token} in text")
            elif name in TEXT_COMMANDS:
                if name in FUNCTIONS:
                    self.argument("text", script=False)
            else:
                raise FormulaError(f"{token} in text")
