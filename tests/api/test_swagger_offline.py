"""Swagger UI works on a machine without internet: its page loads nothing from another host,
and the files it names are served by the service itself."""

from __future__ import annotations

import re


async def test_the_swagger_page_needs_no_other_host(client) -> None:
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"""(src|href)=["']https?://""", html), "an asset from another host"
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith(".css") for a in assets)
    for asset in assets:
        served = await client.get(asset)  # no token: the documentation is public
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset
    js = await client.get(next(a for a in assets if a.endswith("swagger-ui-bundle.js")))
    assert "javascript" in js.headers["content-type"]
    assert b"SwaggerUIBundle" in js.content


async def test_an_unknown_asset_is_a_404_not_a_500(client) -> None:
    r = await client.get("/schema-assets/swagger-ui/../../app/config.py")
    assert r.status_code in (400, 404)
    r = await client.get("/schema-assets/swagger-ui/nope.js")
    assert r.status_code == 404
