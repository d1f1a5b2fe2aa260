"""The user sync: the people who book rooms kept in step with the directory by
``/users/delta`` (names, addresses, accounts disabled or deleted).
"""
