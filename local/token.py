"""`python -m local.token --roles Moves.Execute --name alice@contoso.com`: print a token the running dev host accepts.

Only the token goes to stdout, so `export AML_LIFECYCLE_TOKEN=$(python -m local.token ...)` works; the dev host
must be running with AML_LIFECYCLE_AUTH=entra (the `make run` default): it wrote the issuer file this reads.
"""

from __future__ import annotations

import argparse
import sys

from local.issuer import ISSUER_FILE_SETTING, LocalIssuer, issuer_file
from shared.auth import APP_ROLES as ROLES


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.token", description=__doc__.split("\n")[0])
    parser.add_argument("--roles", nargs="*", default=[], metavar="ROLE",
                        help=f"app roles (space or comma separated; 'all' for every one): {', '.join(ROLES)}")
    parser.add_argument("--name", default="alice@contoso.com", help="user principal name (or app name with --app)")
    parser.add_argument("--app", action="store_true", help="an application's token (a pipeline's service principal)")
    parser.add_argument("--minutes", type=float, default=60, help="lifetime (default 60)")
    parser.add_argument("--issuer-file", default=None, help=f"default: ${ISSUER_FILE_SETTING} or .local/devhost-issuer.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    roles = [r for part in args.roles for r in part.split(",") if r]
    if "all" in roles:
        roles = list(ROLES)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:  # a typo would only show later as a 403
        print(f"unknown role {unknown[0]!r}; the app's roles are {', '.join(ROLES)}", file=sys.stderr)
        return 2
    path = args.issuer_file or issuer_file()
    try:
        issuer = LocalIssuer.load(path)
    except FileNotFoundError:
        print(f"no issuer file at {path}: start the stack with `make run` (AML_LIFECYCLE_AUTH=entra) first",
              file=sys.stderr)
        return 1
    print(issuer.mint(roles, args.name, app=args.app, minutes=args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
