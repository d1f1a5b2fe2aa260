"""The HTTP face: app assembly, admin and occupant pages, webhook endpoints, auth."""
