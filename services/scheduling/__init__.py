"""Scheduling: the section head plans the field visit of an approved request.

Approved requests wait here for a schedule (step 4). The schedule names the
visit days, the place, the officers (*petugas*) and the equipment; it is
numbered as an assignment letter (*Surat Perintah Tugas*). An officer is never
booked on two visits whose days overlap.
"""
