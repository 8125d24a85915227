"""Shared kernel of the purnajual services.

Holds only what every service must agree on: the integration-event contracts
published on NATS JetStream, and the plumbing that publishes a service's event
log and consumes the others' streams. No service imports another service; they
all import this package.
"""
