"""Classroom mode: the class's predictions stored (``store``), shown beside each lab's
reveal (``ui``), and a token-protected instructor view (``instructor``)."""
from playground.classroom.store import DEFAULT_CLASS, VoteRefused, VoteStore, class_code

__all__ = ["DEFAULT_CLASS", "VoteRefused", "VoteStore", "class_code"]
