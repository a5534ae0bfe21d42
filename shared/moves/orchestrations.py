"""The names the host indexes the durable move and the long validation under: no imports, so indexing stays light."""

ORCHESTRATOR = "move_orchestrator"

VALIDATION_ORCHESTRATOR = "move_validation_orchestrator"
VALIDATION_POLL = "move_validation_poll"
VALIDATION_FINISH = "move_validation_finish"
