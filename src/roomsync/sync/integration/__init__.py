"""An integration as configured and as operators see it: its saved configuration and settings,
the Graph connection to its tenant, who may run, the permission doctor, client-secret expiry,
and the status view and gauges behind ``GET /integrations/{id}/status`` and ``/metrics``.
"""
