"""The tenant's directory: apps, users, rooms and room lists, and how Graph serves them
(``/users``, v1.0 ``/places``, beta ``findRooms``/``findRoomLists``).
"""
