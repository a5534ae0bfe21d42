"""A Message as the JSON an incoming webhook takes: a Teams Workflows Adaptive Card, or Slack Block Kit.

Teams: the Workflows template "Post to a channel when a webhook request is received" takes
`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": <card>}]}`
(Adaptive Card schema 1.4: TextBlock, FactSet, Action.OpenUrl). Slack: incoming webhooks take `{"text", "blocks"}`
(Block Kit: header, section with mrkdwn, actions with buttons); `text` is the notification's fallback.
"""

from __future__ import annotations

from typing import Any

from shared.notify.message import Message

_COLOURS = {"good": "Good", "warning": "Warning", "attention": "Attention"}


def teams_card(message: Message) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": message.title, "weight": "Bolder", "size": "Medium", "wrap": True,
         "color": _COLOURS.get(message.severity, "Default")},
        {"type": "TextBlock", "text": message.summary, "wrap": True},
    ]
    if message.facts:
        body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in message.facts]})
    if message.todo:
        body.append({"type": "TextBlock", "text": "What to do", "weight": "Bolder", "wrap": True})
        body.extend({"type": "TextBlock", "text": f"- {line}", "wrap": True} for line in message.todo)
    others = [f"{label}: {url}" for label, url in message.links if not url.startswith("https://")]
    if others:
        body.append({"type": "TextBlock", "text": "; ".join(others), "wrap": True, "isSubtle": True})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body,
            "actions": [{"type": "Action.OpenUrl", "title": label, "url": url}
                        for label, url in message.links if url.startswith("https://")]}
    return {"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                                                "contentUrl": None, "content": card}]}


def slack_message(message: Message) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": message.summary}},
    ]
    if message.facts:
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"}
                                                     for k, v in message.facts[:10]]})
    if message.todo:
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                   "text": "*What to do*\n" + "\n".join(f"• {t}" for t in message.todo)}})
    links = [(label, url) for label, url in message.links if url.startswith("https://")]
    if links:
        blocks.append({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": k},
                                                        "url": v} for k, v in links]})
    others = [f"{label}: {url}" for label, url in message.links if not url.startswith("https://")]
    if others:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "; ".join(others)}]})
    return {"text": f"{message.title}. {message.summary}", "blocks": blocks}


def payload(message: Message, kind: str) -> dict[str, Any]:
    """`kind` teams or slack."""
    return slack_message(message) if kind == "slack" else teams_card(message)
