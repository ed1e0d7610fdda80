"""Sandbox load figures: generate a large company and page through it at pageSize 5000.

Run: ``.venv/bin/python -m bench.sandbox_load`` (prints figures; not a test).
"""

from __future__ import annotations

import asyncio
import base64
import time

from litestar.testing import AsyncTestClient

from sandbox import GeneratorSpec, SandboxConfig, create_sandbox_app, generate_company_data

SPEC = {
    "customers": 50_000,
    "suppliers": 50_000,
    "items": 10_000,
    "invoices": 25_000,
    "bills": 25_000,
}
HEADERS = {"Authorization": "Basic " + base64.b64encode(b"sandbox").decode()}


async def main() -> None:
    started = time.perf_counter()
    data = generate_company_data(GeneratorSpec(seed=1, **SPEC))
    records = sum(len(v) for v in data.values())
    generate_s = time.perf_counter() - started
    print(f"generate_company_data: {records} records in {generate_s:.2f} s")

    app = create_sandbox_app(SandboxConfig(public_url="http://bench"))
    async with AsyncTestClient(app) as client:
        started = time.perf_counter()
        response = await client.post(
            "/_admin/companies/generate", json={**SPEC, "seed": 1}, headers=HEADERS
        )
        company_id = response.json()["id"]
        print(f"POST /_admin/companies/generate: {time.perf_counter() - started:.2f} s")

        for label, params in (
            ("customers, no query (first pass encodes)", {}),
            ("customers, no query (cached bytes)", {}),
            ("customers, query modifiedDate>=2024-03-01 + orderBy", {
                "query": "modifiedDate>=2024-03-01T00:00:00Z&&metadata.isDeleted!=true",
                "orderBy": "modifiedDate",
            }),
        ):  # fmt: skip
            started = time.perf_counter()
            pages = 0
            total_bytes = 0
            page = 1
            while True:
                response = await client.get(
                    f"/companies/{company_id}/data/customers",
                    params={"page": page, "pageSize": 5000, **params},
                    headers=HEADERS,
                )
                body = response.json()
                pages += 1
                total_bytes += len(response.content)
                if "next" not in body["_links"]:
                    break
                page += 1
            elapsed = time.perf_counter() - started
            print(
                f"{label}: {pages} pages of 5000 in {elapsed:.2f} s "
                f"({elapsed / pages * 1000:.0f} ms/page incl. client JSON decode, "
                f"{total_bytes / pages / 1e6:.1f} MB/page)"
            )
        started = time.perf_counter()
        response = await client.get(
            f"/companies/{company_id}/data/invoices",
            params={"page": 3, "pageSize": 5000},
            headers=HEADERS,
        )
        print(f"invoices page 3 of 5000: {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
