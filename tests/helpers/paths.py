"""Where the repository's files are, for the tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "configs"
SCHEDULES = CONFIGS / "schedules"
WINDOWS = CONFIGS / "windows"
TC_INV = SCHEDULES / "tc_inverter_cu100_pb200.toml"
TC_CD = SCHEDULES / "tc_cd_cu100_pb200.toml"
DIRECT = SCHEDULES / "direct_cd_ni400_crossed.toml"
