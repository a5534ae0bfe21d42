"""The lock each function takes around its first imports of shared/ and the Azure SDKs (cold start, issue 26)."""

import threading

# The host indexes the app without the domain; each function imports what it needs when it runs. The worker runs
# sync functions on a thread pool, and two threads importing the same package cycle at once (a package __init__
# importing its modules) get "partially initialized module" ImportErrors: one lock makes those imports one at a time.
# Re-entrant: an orchestrator's flow module takes it again for its own imports.
domain_imports = threading.RLock()
