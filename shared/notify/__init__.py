"""Alerts to a person: each alert CloudEvent as a readable message, posted to a Teams or Slack incoming webhook."""

from shared.notify.message import Message, message_for
from shared.notify.webhook import NotifyError, NotifySettings, deliver

__all__ = ["Message", "NotifyError", "NotifySettings", "deliver", "message_for"]
