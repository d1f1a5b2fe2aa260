"""Entra ID's sign-in side: the authorization endpoint with its sign-in form, the
``authorization_code`` and ``refresh_token`` grants, id_tokens, app roles, user
assignment, consent and sign-out (MicrosoftDocs/entra-docs, identity-platform/).

    model       passwords, redirect URIs, app roles, assignments, consent (in the tenant)
    passwords   seeded passwords
    scopes      delegated scopes and consent
    authorize   the authorize request's parameters and checks
    service     password check, assignment and consent, codes and refresh tokens
    redeem      the token endpoint's user grants
    tokens      id_token, delegated access token, client_info
    pages       the HTML pages
    routes      the HTTP endpoints
    controls    ``sim.signin`` and ``/_sim/signin``

Kept free of imports so that the tenant model can import ``signin.model``.
"""
