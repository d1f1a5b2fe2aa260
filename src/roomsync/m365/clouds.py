"""Where a tenant signs in and where its Graph lives: the global cloud or a national one.

Microsoft runs separate sign-in and Graph hosts per national cloud (global, US Government
L4 and L5/DoD, China operated by 21Vianet); a token is only good for the Graph of its own
cloud, and its scope is ``{graph_url}/.default`` (concepts/auth-v2-service.md). Any other
host (graphsim, a proxy in a test) is not known to Entra's instance discovery, so msal must
not ask ``login.microsoftonline.com`` about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from roomsync.errors import ConfigurationError
from roomsync.settings import Settings

MICROSOFT_LOGIN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.microsoft.com",
        "login.windows.net",
        "sts.windows.net",
        "login.microsoftonline.us",
        "login.chinacloudapi.cn",
        "login.partner.microsoftonline.cn",
    }
)


@dataclass(frozen=True)
class CloudEndpoints:
    """The sign-in and Graph base URLs of one cloud, without trailing slashes."""

    login_url: str
    graph_url: str

    def __post_init__(self) -> None:
        for name in ("login_url", "graph_url"):
            value = getattr(self, name).rstrip("/")
            parts = urlsplit(value)
            if parts.scheme not in ("https", "http") or not parts.netloc:
                raise ConfigurationError(
                    f"{value!r} is not a usable {name.replace('_', ' ')}: give an absolute "
                    "https:// address such as https://graph.microsoft.com."
                )
            object.__setattr__(self, name, value)

    @classmethod
    def from_settings(cls, settings: Settings) -> CloudEndpoints:
        return cls(login_url=settings.login_url, graph_url=settings.graph_url)

    @property
    def graph_scope(self) -> str:
        """The app-only scope: every application permission granted on this cloud's Graph."""
        return f"{self.graph_url}/.default"

    def authority(self, tenant_id: str) -> str:
        return f"{self.login_url}/{tenant_id}"

    @property
    def is_microsoft_login_host(self) -> bool:
        """True for Microsoft's own sign-in hosts, where msal's instance discovery works."""
        return (urlsplit(self.login_url).hostname or "") in MICROSOFT_LOGIN_HOSTS


GLOBAL = CloudEndpoints("https://login.microsoftonline.com", "https://graph.microsoft.com")
US_GOVERNMENT_L4 = CloudEndpoints("https://login.microsoftonline.us", "https://graph.microsoft.us")
US_GOVERNMENT_L5_DOD = CloudEndpoints(
    "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"
)
CHINA_21VIANET = CloudEndpoints(
    "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"
)
NATIONAL_CLOUDS = (GLOBAL, US_GOVERNMENT_L4, US_GOVERNMENT_L5_DOD, CHINA_21VIANET)
