"""Replies: composing, moderation and approvals, pacing, delivery through the outbox."""
