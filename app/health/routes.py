"""``/health/live``, ``/health/ready``."""

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text


@get("/health/live", operation_id="get_health_live", tags=["operations"], sync_to_thread=False)
def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@get("/health/ready", operation_id="get_health_ready", tags=["operations"])
async def ready(state: State) -> Response[dict[str, Any]]:
    """The database answers and, where this process runs jobs, the scheduler is running."""
    checks: dict[str, str] = {}
    try:
        async with state.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    runner = state.get("jobs")
    if runner is not None:
        checks["scheduler"] = "ok" if runner.running else "not running"
    healthy = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status_code=200 if healthy else 503,
    )
