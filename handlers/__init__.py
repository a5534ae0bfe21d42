"""Thin trigger adapters: one blueprint per module, registered by function_app.py."""
