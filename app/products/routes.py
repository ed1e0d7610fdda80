"""``/v1/products``."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.models import Entity, Product
from app.listing import Limit, Order, Token
from app.pagination import Page, paginate
from app.products import queries, service
from app.products.schemas import ProductCreate, ProductOut, ProductUpdate


class ProductController(Controller):
    path = "/v1/products"
    tags = ["products"]

    @post("/", operation_id="post_products")
    async def create(
        self, data: ProductCreate, db_session: AsyncSession, entity: Entity
    ) -> ProductOut:
        """Create a product or service."""
        return service.to_out(await service.create(db_session, entity.id, data))

    @get("/", operation_id="get_products")
    async def list_products(
        self,
        db_session: AsyncSession,
        entity: Entity,
        state: State,
        limit: Limit = 100,
        order: Order = "asc",
        pagination_token: Token = None,
        name__icontains: str | None = None,
    ) -> Page[ProductOut]:
        """The entity's products."""
        return await paginate(
            db_session,
            state.paginator,
            lambda q, _: queries.list_stmt(entity.id, q["name"]),
            list_name="products",
            scope=entity.id,
            model=Product,
            query={"order": order, "name": name__icontains},
            limit=limit,
            token=pagination_token,
            out=service.to_out,
        )

    @get("/{product_id:uuid}", operation_id="get_products_id")
    async def get_one(
        self, product_id: uuid.UUID, db_session: AsyncSession, entity: Entity
    ) -> ProductOut:
        """One product."""
        return service.to_out(await service.get(db_session, entity.id, product_id))

    @patch("/{product_id:uuid}", operation_id="patch_products_id")
    async def update(
        self, product_id: uuid.UUID, data: ProductUpdate, db_session: AsyncSession, entity: Entity
    ) -> ProductOut:
        """Change a product."""
        return service.to_out(await service.update(db_session, entity.id, product_id, data))

    @delete("/{product_id:uuid}", operation_id="delete_products_id")
    async def remove(self, product_id: uuid.UUID, db_session: AsyncSession, entity: Entity) -> None:
        """Delete a product that no invoice uses."""
        await service.delete(db_session, entity.id, product_id)
