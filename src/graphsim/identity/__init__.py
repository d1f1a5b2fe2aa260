"""Entra ID for daemons: the token endpoint and OpenID metadata msal reads, the credentials an
admin hands an app (client secret or certificate), the certificates graphsim makes, and the
application permissions each endpoint needs.
"""
