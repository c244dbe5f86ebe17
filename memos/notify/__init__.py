"""Outgoing delivery: SMTP e-mail, signed webhooks, and the guard that keeps them off private networks."""
