"""graphsim: an emulated Microsoft 365 tenant that behaves like Microsoft Graph as documented.

A separate package: it never imports roomsync, and roomsync never imports it.
"""
