"""Intake: receives after-sales service requests from every channel.

It registers each request once (the same channel message twice is the same
request), gives it a reference the stakeholder can quote, publishes
RequestSubmitted, and keeps the request's timeline current from the other
services' events.
"""
