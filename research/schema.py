"""Describes the research token to drf-spectacular (imported by ResearchConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ResearchTokenScheme(OpenApiAuthenticationExtension):
    target_class = "research.auth.ResearchTokenAuthentication"
    name = "researchToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A research API token (blg_...), made on the researcher's "
                               "exports page; it works on the research endpoints only."}
