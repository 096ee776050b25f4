"""Home-page links to the research pages for the roles that use them."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from surveys import access
from surveys.permissions import EXPORT, MANAGE_AGREEMENTS

register = template.Library()


@register.simple_tag
def research_links(user):
    perms = access.user_permissions_anywhere(user)
    links = []
    if MANAGE_AGREEMENTS in perms:
        links.append((reverse("research-agreements"), _("Research data-sharing agreements")))
    if EXPORT in perms:
        links.append((reverse("research-exports"), _("My research agreements and exports")))
    return links
