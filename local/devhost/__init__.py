"""A development Functions host: serves a Python v2-model app (HTTP, Event Grid, timers, Durable) without Core Tools."""
