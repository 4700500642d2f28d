"""Small, bounded readers of the languages attackers inject (shell, Log4j lookups).

Detectors use them to recognise an injection by its structure: they tokenise a
value the way the target interpreter would, within explicit size and depth
limits, and never raise on malformed input.
"""
