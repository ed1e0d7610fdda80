"""ReDoc works on a machine without internet (issue 14): ``/schema/redoc`` loads nothing from
another host (no CDN, no Google Fonts), its script is served by the service (vendored under
app/static/redoc with its licence), and it renders the described document."""

from __future__ import annotations

import re


async def test_the_redoc_page_needs_no_other_host(client) -> None:
    page = await client.get("/schema/redoc")
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"""(src|href)=["']https?://""", html), "an asset from another host"
    assert "fonts.googleapis" not in html
    assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", html)
    script = next(a for a in assets if a.endswith("redoc.standalone.js"))
    for asset in assets:
        served = await client.get(asset)  # no token: the documentation is public
        assert served.status_code == 200, asset
        assert len(served.content) > 100, asset
    js = await client.get(script)
    assert "javascript" in js.headers["content-type"]
    assert b"Redoc" in js.content[:2000]
    # the document it renders is the described one (the error bodies actually sent)
    assert '"ErrorBody"' in html and "Redoc.init(" in html
    licence = await client.get(script.rsplit("/", 1)[0] + "/LICENSE")
    assert licence.status_code == 200 and "MIT License" in licence.text


async def test_an_unknown_redoc_asset_is_a_404_not_a_500(client) -> None:
    assert (await client.get("/schema-assets/redoc/nope.js")).status_code == 404
    r = await client.get("/schema-assets/redoc/../../config.py")
    assert r.status_code in (400, 404)
