"""Interviewer: a realtime voice agent that interviews a candidate out loud like a hiring manager."""

__version__ = "0.1.0"
