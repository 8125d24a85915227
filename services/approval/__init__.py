"""Approval: the head of the center's inbox and decisions (steps 2 and 3).

Every submitted request lands here as pending. The head (*Kepala Balai*)
approves it with a *disposisi* to the section head, or rejects it with a
reason; for a rejection the section head then drafts the numbered rejection
letter.
"""
