"""Recorded-behaviour fake IdPs, one per preset, each written from its
provider's documentation (see each module). See base.py for what they share
and what they are for; the generic `oidc` preset is proven against the real
IdPs (django-oauth-toolkit, glewlwyd, LemonLDAP::NG) instead.

Not fake_idp.py: that one imitates no provider; it is the controllable
upstream the fault tests and the benchmarks tell to be down, slow or wrong."""
from __future__ import annotations

from .auth0 import Auth0Fake
from .entra import EntraFake
from .github import GitHubFake
from .google import GoogleFake
from .keycloak import KeycloakFake
from .okta import OktaFake

FAKES = {"entra": EntraFake, "okta": OktaFake, "google": GoogleFake, "github": GitHubFake,
         "auth0": Auth0Fake, "keycloak": KeycloakFake}


def start_fake(preset: str, callback_url: str, **kwargs):
    """The fake for `preset`, listening on a free loopback port."""
    return FAKES[preset](callback_url, **kwargs)


__all__ = ["FAKES", "start_fake", "Auth0Fake", "EntraFake", "GitHubFake", "GoogleFake", "KeycloakFake", "OktaFake"]
