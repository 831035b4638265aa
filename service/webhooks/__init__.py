"""Webhooks: subscriptions, the transactional outbox (emit), signed delivery and its log."""
