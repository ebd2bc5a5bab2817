"""Feedback requests: campaigns, recipients and their e-mails, the public answers, previews."""
