"""Driving the emulated tenant from outside: the ``/_sim`` control surface, seeding tenants,
injected faults, and simulated Outlook users.
"""
