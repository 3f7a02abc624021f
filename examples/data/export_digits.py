"""Exports scikit-learn's 8x8 digits once, to digits.csv beside this script.

Run in a throwaway virtual environment:

    python3 -m venv /tmp/skl-venv && /tmp/skl-venv/bin/pip install scikit-learn
    /tmp/skl-venv/bin/python examples/data/export_digits.py

Each line of digits.csv is one sample: the label (0-9), then the 64 pixel intensities
(whole numbers 0-16, row by row), in scikit-learn's order. No header.
"""

from pathlib import Path

import sklearn
from sklearn.datasets import load_digits


def main() -> None:
    digits = load_digits()
    out = Path(__file__).with_name("digits.csv")
    with out.open("w", newline="\n") as f:
        for label, pixels in zip(digits.target, digits.data):
            f.write(",".join([str(int(label))] + [str(int(v)) for v in pixels]) + "\n")
    print(f"wrote {len(digits.target)} samples to {out} (scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
