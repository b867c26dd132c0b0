"""SLA-SPEC §11 worked examples as data, shared by the CLI and the pure-engine tests."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MINUTE = 60_000


def ms(text: str) -> int:
    moment = dt.datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(milliseconds=1)


def day3(hhmm: str) -> int:
    return ms(f"2026-11-03T{hhmm}Z")


NOV = (ms("2026-11-01T00:00:00Z"), ms("2026-12-01T00:00:00Z"))
OCT_NOV = (ms("2026-10-01T00:00:00Z"), ms("2026-12-01T00:00:00Z"))


@dataclass(frozen=True)
class Example:
    id: str
    down: list[tuple[int, int]]  # region probe "w" down [A, B): down samples from A, first up sample at B
    expected: dict[str, tuple[float, float | None, int]]  # month → (downtime min, availability %, credit %)
    span: tuple[int, int] = NOV
    third_party_down: list[tuple[int, int]] = field(default_factory=list)
    maintenance: list[dict] = field(default_factory=list)


def samples(down: list[tuple[int, int]], span: tuple[int, int], step: int = MINUTE) -> list[tuple[int, bool]]:
    """A sample every ``step`` over ``span``; down inside ``down``; an extra up sample at each B off the grid."""
    out = {t: not any(a <= t < b for a, b in down) for t in range(span[0], span[1], step)}
    for _, b in down:
        out.setdefault(b, True)
    return sorted(out.items())


def _maint(start: str, end: str, notice_h: int) -> dict:
    return {"start": day3(start), "end": day3(end), "announced_at": day3(start) - notice_h * 3_600_000}


EXAMPLES = [
    Example("1-twenty-minutes", [(day3("10:00"), day3("10:20"))], {"2026-11": (20, 99.953704, 0)}),
    Example("2-sixty-minutes", [(day3("10:00"), day3("10:20")), (ms("2026-11-20T08:00:00Z"), ms("2026-11-20T08:40:00Z"))],
            {"2026-11": (60, 99.861111, 10)}),
    Example("3-fourteen-minutes-brief", [(day3("10:00"), day3("10:14"))], {"2026-11": (0, 100.0, 0)}),
    Example("4-maintenance-72h-notice", [(day3("10:00"), day3("10:30"))], {"2026-11": (0, 100.0, 0)},
            maintenance=[_maint("10:05", "10:25", 72)]),
    Example("5-maintenance-24h-late-notice", [(day3("10:00"), day3("10:30"))], {"2026-11": (30, 99.930556, 0)},
            maintenance=[_maint("10:05", "10:25", 24)]),
    Example("6-exactly-99.9", [(day3("10:00"), ms("2026-11-03T10:43:12Z"))], {"2026-11": (43.2, 99.9, 0)}),
    Example("7-just-below-99.9", [(day3("10:00"), ms("2026-11-03T10:43:13Z"))], {"2026-11": (43.216667, 99.899961, 10)}),
    Example("8-third-party-overlap", [(day3("10:00"), day3("12:00"))], {"2026-11": (90, 99.791667, 10)},
            third_party_down=[(day3("10:30"), day3("11:00"))]),
    Example("9-across-month-end", [(ms("2026-10-31T23:50:00Z"), ms("2026-11-01T00:10:00Z"))],
            {"2026-10": (10, None, 0), "2026-11": (10, None, 0)}, span=OCT_NOV),
    Example("10-eight-hours-same-event", [(day3("10:00"), day3("18:00"))], {"2026-11": (480, 98.888889, 25)}),
]
NOW = "2027-01-15T00:00:00Z"
