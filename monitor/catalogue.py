"""The third parties a TrueEngage deployment depends on, ready to put in a config (``sla-monitor init``):
Genesys Cloud regions and Azure regions with their public status feeds, and Vonage.

Each entry is what config/example.yaml spells out by hand: the provider's API host (a TLS probe: does
it answer at all) and its status feed (what the provider says). Status pages rename components now and
then: the names and patterns below are checked against the live pages by a person, never by a test
(tests never reach a real host)."""
from __future__ import annotations

import re
from dataclasses import dataclass

GENESYS_STATUS = "https://status.mypurecloud.com"
AZURE_STATUS = "https://azure.status.microsoft/en-us/status"
AZURE_FEED = "https://azure.status.microsoft/en-us/status/feed/"


@dataclass(frozen=True)
class CatalogueEntry:
    name: str  # the config's third_parties[].name
    provider: str
    where: str  # the provider's region in its own words
    status_page: str
    probes: tuple[dict, ...]

    def config(self) -> dict:
        """The ``third_parties[]`` entry, as config/example.yaml writes it."""
        return {"name": self.name, "provider": self.provider, "status_page": self.status_page,
                "probes": [dict(p) for p in self.probes]}


# Genesys Cloud: region code → (API host, the status page's component).
GENESYS = {
    "use1": ("api.mypurecloud.com", "Americas (US East)"),
    "usw2": ("api.usw2.pure.cloud", "Americas (US West)"),
    "cac1": ("api.cac1.pure.cloud", "Americas (Canada)"),
    "euw1": ("api.mypurecloud.ie", "EMEA (Dublin)"),
    "euc1": ("api.mypurecloud.de", "EMEA (Frankfurt)"),
    "euw2": ("api.euw2.pure.cloud", "EMEA (London)"),
    "apse2": ("api.mypurecloud.com.au", "Asia Pacific (Sydney)"),
    "apne1": ("api.mypurecloud.jp", "Asia Pacific (Tokyo)"),
}
# Azure: region name → its display name, as the status feed's items say it.
AZURE = {
    "eastus": "East US", "eastus2": "East US 2", "westus2": "West US 2", "centralus": "Central US",
    "canadacentral": "Canada Central", "northeurope": "North Europe", "westeurope": "West Europe",
    "uksouth": "UK South", "germanywestcentral": "Germany West Central", "francecentral": "France Central",
    "australiaeast": "Australia East", "japaneast": "Japan East", "southeastasia": "Southeast Asia",
}


def _genesys(code: str) -> CatalogueEntry:
    host, component = GENESYS[code]
    name = f"genesys-{code}"
    return CatalogueEntry(name, "Genesys Cloud", component, GENESYS_STATUS, (
        {"id": f"{name}-api-tls", "kind": "tls", "host": host, "port": 443, "interval": "60s", "timeout": "10s"},
        {"id": f"{name}-status", "kind": "statuspage", "url": GENESYS_STATUS, "components": [component],
         "interval": "60s"}))


def _azure(region: str) -> CatalogueEntry:
    display = AZURE[region]
    name = f"azure-{region}"
    # The feed names regions in prose: the display name as words, and not followed by a number, so that
    # "East US" is not "East US 2" (RE2 has no lookahead: the next character is matched instead).
    pattern = r"\b" + r"\s+".join(re.escape(word) for word in display.split()) + r"(?:$|[^\s\d\w]|\s+[^\s\d])"
    return CatalogueEntry(name, "Microsoft Azure", display, AZURE_STATUS, (
        {"id": f"{name}-rss", "kind": "rss", "url": AZURE_FEED, "match": [pattern], "interval": "120s",
         "stale_after": "10m"},))


VONAGE = CatalogueEntry("vonage", "Vonage", "Video API", "https://api.vonage.com/status", (
    {"id": "vonage-video-api-tls", "kind": "tls", "host": "api.opentok.com", "port": 443, "interval": "60s",
     "timeout": "10s"},
    {"id": "vonage-status", "kind": "statuspage", "url": "https://vonageapi.statuspage.io",
     "components": ["Video API"], "interval": "60s"}))

CATALOGUE: dict[str, CatalogueEntry] = {
    **{f"genesys-{code}": _genesys(code) for code in GENESYS},
    **{f"azure-{region}": _azure(region) for region in AZURE},
    "vonage": VONAGE,
}
