"""The ``fitorch`` command.

``fitorch demo`` lists the demos; ``fitorch demo NAME [NAME ...] [--epochs N] [--out DIR]`` runs
the named demos in turn, e.g. ``fitorch demo linear ring --out demo-out``.
"""

from __future__ import annotations

import argparse
import sys

from fitorch.demos import DEMOS, missing_packages, run_demo


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fitorch", description="fitorch: Keras conveniences for PyTorch.",
        epilog="example: fitorch demo linear ring --out demo-out")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="list the demos, or run the named ones",
                          description="Without a name: list the demos. With names: run each in "
                                      "turn (summary, progress bar, final metrics, figures).")
    demo.add_argument("names", nargs="*", metavar="NAME", help=f"one of: {', '.join(DEMOS)}")
    demo.add_argument("--epochs", type=int, default=None,
                      help="train for N epochs instead of each demo's default")
    demo.add_argument("--out", default=None, metavar="DIR",
                      help="write the PNG figures to DIR (created if missing)")
    return parser


def list_demos() -> str:
    """The demo names with their one-line descriptions, one per line."""
    width = max(len(name) for name in DEMOS)
    lines = [f"  {name:{width}s}  {doc}" for name, (_, doc) in DEMOS.items()]
    return "\n".join(["demos (run one with: fitorch demo NAME [--epochs N] [--out DIR]):",
                      *lines])


def _missing_message(missing: list[tuple[str, str]]) -> str:
    lines = [f"  {pip}: needed for {why}" for pip, why in missing]
    hint = f"install with: pip install {' '.join(pip for pip, _ in missing)}"
    if any(pip == "matplotlib" for pip, _ in missing):
        hint += ' (in a fitorch checkout, the plot extra has it: pip install -e ".[plot]")'
    return "\n".join(["missing packages, nothing was run:", *lines, hint])


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fitorch`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    # every name and option is checked before the first demo starts training
    unknown = [name for name in args.names if name not in DEMOS]
    if unknown:
        parser.error(f"unknown demo {unknown[0]!r}; choose from {', '.join(DEMOS)}")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs={args.epochs}: expected a positive number")
    if not args.names:
        print(list_demos())
        return 0
    # ... and so is every package they import, so a missing one fails now, not after training
    missing = missing_packages(args.names, figures=args.out is not None)
    if missing:
        parser.error(_missing_message(missing))
    for name in args.names:
        run_demo(name, epochs=args.epochs, out=args.out)
    if args.out is not None:
        print(f"\nfigures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
