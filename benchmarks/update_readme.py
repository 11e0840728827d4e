"""Write the model-versus-published tables of README.md from ``spine3d validate``.

The numbers between ``<!-- validate:begin -->`` and ``<!-- validate:end -->`` are never
written by hand: run ``.venv/bin/python benchmarks/update_readme.py`` after a change of
the mechanics or a new calibration (``benchmarks/calibrate.py``);
``tests/mechanics/test_validation.py`` fails when the README is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from spine3d.mechanics.validation import readme_block

README = Path(__file__).resolve().parents[1] / "README.md"
BEGIN, END = "<!-- validate:begin -->", "<!-- validate:end -->"


def main() -> int:
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"Error: {README}: no {BEGIN} ... {END} block", file=sys.stderr)
        return 2
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + BEGIN + "\n" + readme_block() + END + tail, encoding="utf-8")
    print(f"wrote the validation tables of {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
