from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.kit.leases import held
from service.models.base import Base, EnumText, UTCDateTime, utcnow

if TYPE_CHECKING:
    from service.models.account import Account


@dataclass(frozen=True)
class FunctionRef:
    """A function's identity: the account alias and the FC function name."""

    account: str
    name: str

    def __str__(self) -> str:
        return f"{self.account}/{self.name}"


class Operation(StrEnum):
    """Operations other than a deploy that claim a function while they talk to FC."""

    REMOVE = "remove"
    PUBLISH = "publish"


def operation_claim(operation: Operation) -> str:
    """A claim id that says which operation holds the function (a deploy's is its id)."""
    return f"{operation}-{uuid.uuid4().hex[:24]}"


def claim_holder(claim_id: str) -> str:
    """Who holds a claim, for messages: "deployment <id>" or "a remove (<id>)"."""
    kind = claim_id.partition("-")[0]
    return f"a {kind} ({claim_id})" if kind in set(Operation) else f"deployment {claim_id}"


class DriftStatus(StrEnum):
    UNKNOWN = "unknown"  # never checked, or never deployed
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    MISSING = "missing"  # deleted in FC


class Function(Base):
    """A function managed by fcplane: its identity is (account, name), as on FC.

    ``head_revision`` moves only with a successful deploy; ``applied_*`` is what
    FC reported right after it (the baseline that makes drift visible).
    ``deploying_id`` + ``deploy_lease_until`` is the claim that lets exactly one
    deploy (or removal, or publish: see :func:`operation_claim`) talk to FC at a
    time. ``drift_status`` is ``in_sync`` only while the
    function has no open drift event (a deploy relies on it to skip that lookup).
    """

    __tablename__ = "functions"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    head_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    applied_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drift_status: Mapped[DriftStatus] = mapped_column(
        EnumText(DriftStatus), default=DriftStatus.UNKNOWN, server_default="unknown"
    )
    drift_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deploying_id: Mapped[str | None] = mapped_column(String(36))
    deploy_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Loaded by the queries that need it (joined), never lazily.
    account: Mapped[Account] = relationship(lazy="raise")

    @property
    def ref(self) -> FunctionRef:
        """``account/name``, how messages and events name the function (account loaded)."""
        return FunctionRef(self.account.alias, self.name)

    def claim_held(self, now: datetime | None = None) -> bool:
        """A deploy holds the function (its lease has not run out)."""
        return self.deploying_id is not None and held(self.deploy_lease_until, now or utcnow())

    @property
    def applied_view(self) -> dict[str, Any] | None:
        """The applied state as the API shows it: revision, config, code checksum, when."""
        if self.applied_state is None:
            return None
        return {
            "revision": self.head_revision,
            # "code" holds the checksum in a state (service.functions.state.CODE).
            "config": {k: v for k, v in self.applied_state.items() if k != "code"},
            "code_checksum": self.applied_state.get("code"),
            "applied_at": self.applied_at,
        }

    @property
    def deploying(self) -> str | None:
        """The deployment (or operation) holding the function right now, if any."""
        return self.deploying_id if self.claim_held() else None

    @property
    def interrupted_deployment(self) -> str | None:
        """The deployment whose claim ran out: it died after pushing (or before).

        An operation's expired claim names no deployment: nothing to mark, and
        no deploy to blame a difference on.
        """
        claim = self.deploying_id
        if claim is None or self.claim_held() or claim.partition("-")[0] in set(Operation):
            return None
        return claim
