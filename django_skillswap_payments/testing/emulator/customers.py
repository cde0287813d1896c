"""Customers: ``POST /v1/customers`` and the customers hosted checkout creates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import objects
from .params import check_metadata
from .store import EmulatorStore


class Customers(EmulatorStore):
    """Creating customers; retrieval is the store's generic :meth:`~EmulatorStore.retrieve`."""

    def create_customer(self, params: Mapping[str, Any]) -> dict[str, Any]:
        with self._operation():
            check_metadata(params.get("metadata"), "metadata")
            customer = objects.customer(
                id=self.new_id("cus_", 14),
                created=self.now(),
                params=params,
                invoice_prefix="".join(self._rng.choice("0123456789ABCDEF") for _ in range(8)),
            )
            self._store(customer)
            self._emit("customer.created", customer)
            return customer
