"""Handover's domain: plain Python with no Flask, tested without a request."""
