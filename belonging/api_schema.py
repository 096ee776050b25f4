"""Schema post-processing: what DRF answers on every protected endpoint, written once.

Any operation that needs credentials can answer 401 (a token that is malformed,
unknown or revoked, where the first authenticator names a scheme) or 403 (no
credentials through the session, no permission, or a failed CSRF check), with DRF's
`{"detail": ...}` body. Declaring that per view would repeat it on every view and be
forgotten on the next one; schemathesis (tests/test_api_schema_fuzz.py) holds the
schema to what the API really answers."""

AUTH_ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
DESCRIPTIONS = {
    "401": "Credentials were sent but are not valid.",
    "403": "Not logged in, or not allowed to do this.",
}


def needs_credentials(operation):
    security = operation.get("security")
    return bool(security) and {} not in security


def document_auth_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["AuthError"] = AUTH_ERROR
    ref = {"$ref": "#/components/schemas/AuthError"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or not needs_credentials(operation):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in DESCRIPTIONS.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": ref}},
                })
    return result
