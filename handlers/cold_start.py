"""The lock each function takes around its imports of shared/, which load when a function first runs (cold start)."""

import threading

# The host indexes the app without the domain; each function imports what it needs when it runs. The worker runs
# sync functions on a thread pool, and two threads importing the same package cycle at once (a package __init__
# importing its modules) get "partially initialized module" ImportErrors: one lock makes those imports one at a time.
# Re-entrant: a helper that takes it may run inside another block holding it.
domain_imports = threading.RLock()
