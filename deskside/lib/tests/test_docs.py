from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_is_documented() -> None:
    settings_source = (ROOT / "deskside" / "settings.py").read_text()
    used = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', settings_source))
    assert len(used) > 20  # guards against the pattern silently matching nothing
    documented = set(
        re.findall(r"`DESKSIDE_([A-Z0-9_]+)`", (ROOT / "docs" / "configuration.md").read_text())
    )
    assert used - documented == set(), "document these settings in docs/configuration.md"
