"""The `pose_animate` command: the version, and a configuration check that names the line of a
YAML mistake (Snakemake's own message for a file given with --configfile names none).

    pose_animate --version
    pose_animate check-config my.yaml [config/config.yaml ...]
"""

import argparse
import sys

from . import __version__


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="pose_animate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"pose_animate {__version__}")
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("check-config", help="validate configuration files "
                                                     "(YAML syntax with line numbers, schema)")
    check.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.command != "check-config":
        parser.print_help()
        return 0
    from .core.config import load_config
    from .core.errors import PoseAnimateError

    failed = 0
    for path in args.files:
        try:
            load_config(path)
            print(f"{path}: ok")
        except PoseAnimateError as exc:
            print(exc, file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
