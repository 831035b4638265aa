"""The metrics page in headless Chromium: it loads cleanly and no chart text collides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from alibabacloud_fc20230330.client import Client

from service.reports import browser
from tests.conftest import unavailable
from tests.monitoring.test_metrics import URL, metered

__all__ = ["metered"]


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = browser.chromium_binary()
    if binary is None:
        unavailable("chromium", "not installed; apt-get install -y chromium")
    assert binary is not None
    return binary


@pytest.mark.parametrize("period", [60, 1])
async def test_the_page_renders_in_chromium(
    chromium: str, client: httpx.AsyncClient, metered: Client, tmp_path: Path, period: int
) -> None:
    params: dict[str, str | int] = {"period": period}
    if period == 1:  # per second: ten minutes are 600 points
        params["from"] = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    response = await client.get(f"{URL}.html", params=params)
    assert response.status_code == 200, response.text
    page = tmp_path / "metrics.html"
    page.write_text(response.text)
    loaded = browser.load(page)
    assert loaded.console == []  # no CSP violation, no script error
    assert "Invocations per" in loaded.dom
    layout = browser.text_layout(response.text, tmp_path)
    assert layout.texts >= 30
    assert layout.problems == []
