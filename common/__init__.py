"""Pieces every app shares: the domain-error base and API pagination.

The bottom layer: it imports no app of Laneway, and every app may import it.
"""
