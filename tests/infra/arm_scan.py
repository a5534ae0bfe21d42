"""Finds every ARM call site in the app's code by reading it (ast), so the permission table cannot drift.

An ARM call site is a function (or method) whose own body, lambdas included, does one of these:
- calls an operation of an Azure management SDK client built by `AzureClients` (`clients.resources(sub)`,
  `.subscriptions()`, `.authorization(sub)`, `.databricks(sub)`, `.eventgrid(sub)`, `.management_groups()`),
  directly or through a local name bound to the client or one of its operation groups; the operation is named
  `<factory>.<group>.<method>`, e.g. `resources.resource_groups.begin_delete`;
- sends a raw request on an ARM pipeline (`send_request`);
- is a gateway method sending through `self._send` / `self._get` / `self._list`;
- calls one of `WorkloadGateway`'s generic methods (`put`, `delete`, `find`, ...) on a parameter annotated
  `WorkloadGateway`: the resource type is known only there, so the call site names the actions (`gw.put`).
"""

from __future__ import annotations

import ast
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
ROOTS = ("shared", "handlers", "function_app.py")
CLIENT_FACTORIES = frozenset({"resources", "subscriptions", "authorization", "databricks", "eventgrid",
                              "management_groups"})
GATEWAY_SENDERS = frozenset({"_send", "_get", "_list"})
GENERIC_GATEWAY = "WorkloadGateway"


def _module_name(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def _files() -> list[pathlib.Path]:
    found: list[pathlib.Path] = []
    for root in ROOTS:
        path = REPO / root
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def generic_gateway_methods() -> frozenset[str]:
    """The public methods WorkloadGateway defines itself (its callers declare their actions)."""
    tree = ast.parse((REPO / "shared/azure/ml_workload.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == GENERIC_GATEWAY:
            return frozenset(f.name for f in node.body if isinstance(f, ast.FunctionDef) and not f.name.startswith("_"))
    raise AssertionError("WorkloadGateway not found in shared/azure/ml_workload.py")


def _own_nodes(function: ast.AST):
    """The function's nodes, lambdas included, nested defs and classes left to their own scan."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _chain(node: ast.AST) -> list[object] | None:
    """`clients.resources(s).resource_groups.get` -> ['clients', ('resources',), 'resource_groups', 'get']
    (a tuple marks a call); None when the chain does not start at a plain name."""
    parts: list[object] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            parts.append((node.func.attr,))
            node = node.func.value
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            return list(reversed(parts))
        else:
            return None


def _client_prefix(chain: list[object], aliases: dict[str, str]) -> tuple[str, list[object]] | None:
    """('resources', rest) when the chain goes through a client factory or a local alias of one."""
    head = chain[0]
    if isinstance(head, str) and head in aliases:
        return aliases[head], chain[1:]
    for i, part in enumerate(chain):
        if isinstance(part, tuple) and part[0] in CLIENT_FACTORIES:
            owner = chain[i - 1] if i else None
            base = chain[0]
            if i >= 1 and isinstance(base, str) and (base.endswith("clients") or owner in ("clients", "_clients")):
                return part[0], chain[i + 1:]
    return None


def _operations(function: ast.AST, in_gateway: bool, generic: frozenset[str]) -> set[str]:
    params = {a.arg for a in [*function.args.args, *function.args.kwonlyargs]
              if a.annotation is not None and GENERIC_GATEWAY in ast.unparse(a.annotation)}
    aliases: dict[str, str] = {}
    nodes = list(_own_nodes(function))
    for node in nodes:  # local names bound to a client or an operation group
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            chain = _chain(node.value)
            found = chain and _client_prefix(chain, aliases)
            if found and all(isinstance(p, str) for p in found[1]):
                aliases[node.targets[0].id] = ".".join([found[0], *found[1]])
    ops: set[str] = set()
    for node in nodes:
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr = node.func.attr
        if attr == "send_request":
            ops.add("send_request")
            continue
        receiver = node.func.value
        if in_gateway and attr in GATEWAY_SENDERS and isinstance(receiver, ast.Name) and receiver.id == "self":
            ops.add(f"self.{attr}")
            continue
        if isinstance(receiver, ast.Name) and receiver.id in params and attr in generic:
            ops.add(f"gw.{attr}")
            continue
        chain = _chain(node.func)
        found = chain and _client_prefix(chain, aliases)
        if found and found[1] and all(isinstance(p, str) for p in found[1]):
            ops.add(".".join([found[0], *found[1]]))
    return ops


def scan_source(text: str, module: str) -> dict[str, set[str]]:
    """{'module:qualname': {operation, ...}} for every function of one source file that calls ARM itself."""
    generic = generic_gateway_methods()
    sites: dict[str, set[str]] = {}

    def visit(node: ast.AST, prefix: str, in_gateway: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", "Gateway" in child.name)
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                ops = _operations(child, in_gateway, generic)
                if ops:
                    sites[f"{module}:{prefix}{child.name}"] = ops
                visit(child, f"{prefix}{child.name}.", in_gateway)

    visit(ast.parse(text), "", False)
    return sites


def scan() -> dict[str, set[str]]:
    """Every ARM call site of the app (shared/, handlers/, function_app.py)."""
    sites: dict[str, set[str]] = {}
    for path in _files():
        sites.update(scan_source(path.read_text(encoding="utf-8"), _module_name(path)))
    return sites


if __name__ == "__main__":  # a quick listing while editing the table
    for site, found in sorted(scan().items()):
        print(site, sorted(found))
