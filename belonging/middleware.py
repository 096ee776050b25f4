"""Request ids and the security headers Django's SecurityMiddleware does not set.
The Content Security Policy itself comes from django-csp (settings.CONTENT_SECURITY_POLICY)."""

import uuid

from .logs import REQUEST_ID_PATTERN, request_id

# Features no page of this platform uses; fullscreen is kept for the projector page.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), fullscreen=(self)"
)


def request_id_middleware(get_response):
    """Takes a well-formed X-Request-ID from the proxy, or makes one; every log record
    written while the request runs carries it, and the response echoes it."""

    def middleware(request):
        sent = request.META.get("HTTP_X_REQUEST_ID", "")
        rid = sent if REQUEST_ID_PATTERN.match(sent) else uuid.uuid4().hex
        request.request_id = rid
        # Kept until the request is finished (logs.forget_request_id): Django logs a
        # 4xx or 5xx after the middleware has returned.
        request_id.set(rid)
        response = get_response(request)
        response["X-Request-ID"] = rid
        return response

    return middleware


def security_headers_middleware(get_response):
    def middleware(request):
        response = get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response

    return middleware
