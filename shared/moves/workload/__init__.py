"""The quiesce option of a move: snapshot of computes and online endpoints (no secrets), the preflight rules it
changes, quiesce and restore passes (at the destination, or at the source as compensation), what is left to do."""
