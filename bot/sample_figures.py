"""Plausible monthly figures of a group, for the demo's year of history and the standings benchmark.

Seeded by the caller's random generator, so the same seed always gives the same ward.
"""

from __future__ import annotations

import random


def plausible_value(key: str, rng: random.Random, households: int, quality: float) -> float:
    """A plausible monthly figure; `quality` (0..1) makes some groups consistently better."""

    def percent(low: float, spread: float) -> float:
        return round(min(100.0, max(0.0, low + spread * quality + rng.uniform(-8, 8))), 1)

    if key == "births":
        return float(rng.randint(0, max(1, households // 150)))
    if key == "deaths":
        return float(rng.randint(0, max(1, households // 250)))
    if key in ("moved_in", "moved_out"):
        return float(rng.randint(0, max(2, households // 40)))
    if key == "temp_residents":
        return float(rng.randint(0, max(3, households // 15)))
    if key == "security_incidents":
        return float(rng.choices((0, 1, 2, 3, 4), weights=(60 * quality + 10, 20, 10, 5, 2))[0])
    if key == "petitions":
        return float(rng.choices((0, 1, 2, 3, 5), weights=(50 * quality + 10, 25, 10, 5, 3))[0])
    if key == "cleanup_drives":
        return float(rng.randint(0, 2) + round(2 * quality))
    if key == "fund_contributions":
        return float(round(households * rng.uniform(5_000, 60_000) * (0.5 + quality), -3))
    if key == "poor_households":
        return float(round(households * rng.uniform(0.0, 0.08) * (1.5 - quality)))
    if key == "mediation_success_pct":
        return percent(70, 25)
    if key == "waste_sorting_pct":
        return percent(45, 50)
    if key == "vneid_level2_pct":
        return percent(55, 40)
    if key == "cashless_pct":
        return percent(35, 55)
    if key == "meeting_attendance_pct":
        return percent(55, 40)
    return float(rng.randint(0, 10))
