"""Directory users: ``GET /users/{id | userPrincipalName}`` and ``GET /users``.

- Permission: User.Read.All (or User.ReadBasic.All, Directory.Read.All); otherwise 403
  ``Authorization_RequestDenied``.
- Unknown user: 404 ``Request_ResourceNotFound``.
- Default properties are v1.0's default set; ``$select`` picks others (unknown names:
  400 ``Request_BadRequest``). Room mailboxes are users too, with their
  ``onPremisesExtensionAttributes``, office location, city and department.
"""

from __future__ import annotations

from typing import Any

from graphsim.directory.tenant import User
from graphsim.errors import GraphApiError
from graphsim.graph import Ctx, GraphResponse, Route, route
from graphsim.identity.authz import USERS_READ, require_directory
from graphsim.listing import filtered, int_option, selected

DEFAULT_PROPERTIES = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
_EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{n}" for n in range(1, 16))
# v1.0 user properties graphsim knows but has no data for: selected, they come back null.
_OTHER_PROPERTIES = frozenset(
    {
        "aboutMe",
        "ageGroup",
        "assignedLicenses",
        "assignedPlans",
        "birthday",
        "companyName",
        "consentProvidedForMinor",
        "createdDateTime",
        "creationType",
        "deletedDateTime",
        "employeeHireDate",
        "employeeId",
        "employeeType",
        "externalUserState",
        "faxNumber",
        "hireDate",
        "identities",
        "imAddresses",
        "interests",
        "isResourceAccount",
        "lastPasswordChangeDateTime",
        "legalAgeGroupClassification",
        "mailNickname",
        "mySite",
        "onPremisesDistinguishedName",
        "onPremisesDomainName",
        "onPremisesImmutableId",
        "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName",
        "otherMails",
        "passwordPolicies",
        "pastProjects",
        "postalCode",
        "preferredDataLocation",
        "preferredName",
        "proxyAddresses",
        "responsibilities",
        "schools",
        "showInAddressList",
        "skills",
        "authorizationInfo",
        "customSecurityAttributes",
        "deviceEnrollmentLimit",
        "employeeLeaveDateTime",
        "externalUserStateChangeDateTime",
        "identityParentId",
        "isManagementRestricted",
        "licenseAssignmentStates",
        "mailboxSettings",
        "onPremisesProvisioningErrors",
        "passwordProfile",
        "print",
        "provisionedPlans",
        "securityIdentifier",
        "serviceProvisioningErrors",
        "signInActivity",
        "signInSessionsValidFromDateTime",
        "state",
        "streetAddress",
        "usageLocation",
        "userType",
        "employeeOrgData",
    }
)


def user_json(user: User) -> dict[str, Any]:
    """Every property graphsim has data for."""
    attributes = {name: user.extension_attributes.get(name) for name in _EXTENSION_ATTRIBUTES}
    return {
        "businessPhones": list(user.business_phones),
        "displayName": user.display_name,
        "givenName": user.given_name,
        "jobTitle": user.job_title,
        "mail": user.mail,
        "mobilePhone": user.mobile_phone,
        "officeLocation": user.office_location,
        "preferredLanguage": user.preferred_language,
        "surname": user.surname,
        "userPrincipalName": user.user_principal_name,
        "id": user.id,
        "accountEnabled": user.account_enabled,
        "city": user.city,
        "country": user.country,
        "department": user.department,
        "onPremisesExtensionAttributes": attributes,
        "isResourceAccount": user.is_room or None,
        "mailNickname": user.mail.split("@")[0],
        "userType": "Member",
    }


def project_user(user: User, fields: set[str] | None) -> dict[str, Any]:
    data = user_json(user)
    if not fields:
        return {k: data[k] for k in DEFAULT_PROPERTIES}
    by_lower = {k.lower(): k for k in data} | {k.lower(): k for k in _OTHER_PROPERTIES}
    result: dict[str, Any] = {}
    for field in fields:
        name = by_lower.get(field.lower())
        if name is None:
            raise GraphApiError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{field}' on type 'microsoft.graph.user'.",
            )
        result[name] = data.get(name)
    return result


async def get_user(ctx: Ctx) -> GraphResponse:
    require_directory(ctx.principal, USERS_READ)
    fields = selected(ctx.request.query)
    with ctx.core.lock:
        body = project_user(ctx.user(), fields)
    context = f"{ctx.request.root}/$metadata#users/$entity"
    if fields:
        context = f"{ctx.request.root}/$metadata#users({','.join(sorted(fields))})/$entity"
    return GraphResponse(200, {"@odata.context": context, **body})


async def list_users(ctx: Ctx) -> GraphResponse:
    require_directory(ctx.principal, USERS_READ)
    query = ctx.request.query
    top = int_option(query, "$top", 100, maximum=999)
    skip = int_option(query, "$skiptoken", 0)
    fields = selected(query)
    with ctx.core.lock:
        users = sorted(ctx.core.tenant.users.values(), key=lambda u: u.id)
        matching = filtered(query, [user_json(u) for u in users])
    ids = {u["id"] for u in matching[skip : skip + top]}
    page = [project_user(u, fields) for u in users if u.id in ids]
    body: dict[str, Any] = {"@odata.context": f"{ctx.request.root}/$metadata#users", "value": page}
    if skip + top < len(matching):
        params = "&".join(f"{k}={v}" for k, v in query.items() if k != "$skiptoken")
        body["@odata.nextLink"] = f"{ctx.request.root}/users?{params}&$skiptoken={skip + top}"
    return GraphResponse(200, body)


def routes() -> list[Route]:
    return [route("GET", "/users", list_users), route("GET", "/users/{user}", get_user)]
