"""The Functions app object: registers the blueprint of every handlers/ module, nothing else."""

import importlib
import pkgutil
import sys

import azure.durable_functions as df
import azure.functions as func

import handlers

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)

for _module in sorted(pkgutil.iter_modules(handlers.__path__), key=lambda m: m.name):
    _blueprint = getattr(importlib.import_module(f"handlers.{_module.name}"), "bp", None)
    if _blueprint is not None:
        app.register_functions(_blueprint)


def registered_functions() -> list[tuple[str, str]]:
    """(name, trigger type) of every registered function, without app.get_functions() (callable once only)."""
    builders = app._function_builders  # the decorators' own list; get_functions() would consume the app
    return [(b._function.get_function_name(), b._function.get_trigger().get_binding_name()) for b in builders]


# One start-up line: `python -c "import function_app"` shows what the app registers; the host logs it.
print("aml-lifecycle functions: " + ", ".join(f"{n} ({t})" for n, t in registered_functions()), file=sys.stderr)
