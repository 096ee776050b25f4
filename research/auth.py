"""Researchers' API tokens: `Authorization: Bearer blg_...`.

Only the research export endpoints accept these tokens (they list this class; the rest
of the API does not), so a token reaches nothing but its owner's agreements.
"""

from django.utils import timezone
from rest_framework import authentication, exceptions

from .models import ApiToken, hash_token


class ResearchTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the token as 'Bearer <token>'.")
        try:
            raw = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("The token is not valid.") from None
        token = (ApiToken.objects.select_related("user")
                 .filter(key_hash=hash_token(raw), revoked_at__isnull=True).first())
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("The token is not valid or was revoked.")
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
