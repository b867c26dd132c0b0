"""Hook destinations by type: each a module with a pure ``build_payload`` and a thin ``send``."""
from . import alertmanager, pagerduty, slack, webhook

DESTINATIONS = {"webhook": webhook, "slack": slack, "pagerduty": pagerduty, "alertmanager": alertmanager}
