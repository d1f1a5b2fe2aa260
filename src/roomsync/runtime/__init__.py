"""Processes and the queue: the Huey instance, task and periodic-schedule definitions and
the entry points of ``roomsync run``, ``roomsync worker`` and ``roomsync demo``.

Tasks pass ids and call one workflow function each (STYLE convention 4).
"""
