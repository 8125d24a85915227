"""Fieldwork: the field visit and its signed report, the Berita Acara (step 6).

Scheduled visits wait here until the officers file the Berita Acara: where
and when, who took part and signed, per bull and batch the straws tested and
their post-thaw motility, container checks, findings and recommendations.
Every sample gets a verdict against the configured edition of SNI 4869-1.
"""
