"""The ``fitorch`` command: ``fitorch demo [NAME] [--epochs N] [--out DIR]``."""

from __future__ import annotations

import argparse
import sys

from fitorch.demos import DEMOS, run_demo


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fitorch`` console script."""
    parser = argparse.ArgumentParser(prog="fitorch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run one of the seed's worked examples with fit")
    demo.add_argument("name", nargs="?", default=None,
                      help=f"one of {', '.join(DEMOS)}; without a name, the default demos run")
    demo.add_argument("--list", action="store_true", help="list the demos and exit")
    demo.add_argument("--epochs", type=int, default=None, help="override the number of epochs")
    demo.add_argument("--out", default=None, help="folder for the figures (PNG)")
    args = parser.parse_args(argv)
    if args.list:
        for name, (_, doc) in DEMOS.items():
            print(f"{name:12s} {doc}")
        return 0
    if args.name is not None and args.name not in DEMOS:
        parser.error(f"unknown demo {args.name!r}; choose from {', '.join(DEMOS)}")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs={args.epochs}: expected a positive number")
    names = [args.name] if args.name else ["linear", "ring"]
    for name in names:
        run_demo(name, epochs=args.epochs, out=args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
