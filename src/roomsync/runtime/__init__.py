"""Processes and the queue: the Huey instance, task and periodic-schedule definitions and
the entry points of ``roomsync run``, ``roomsync worker`` and ``roomsync demo``.

Tasks pass ids and call one workflow function each, in 5 to 15 lines (CONTRIBUTING.md):
what a task does is tested through the workflow, not the queue.
"""
