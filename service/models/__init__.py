"""ORM models under one metadata; importing this package registers them all."""

from service.models.account import Account
from service.models.base import Base
from service.models.chat import ChatApproval, ChatEvent, ChatIntegration, ChatReceipt, ChatUser
from service.models.code_package import CodePackage
from service.models.deployment import Deployment
from service.models.drift import DriftEvent
from service.models.function import Function
from service.models.invocation import InvocationRecord
from service.models.job import Job, JobArtifact, JobReport
from service.models.plan import SavedPlan
from service.models.project import (
    Project,
    ProjectDeployment,
    ProjectRevision,
    ProjectTarget,
)
from service.models.release import Alias, AliasRevision, FunctionVersion
from service.models.revision import Revision
from service.models.token import ApiToken
from service.models.webhook import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookStream,
    WebhookSubscription,
)

__all__ = [
    "Account",
    "Alias",
    "AliasRevision",
    "ApiToken",
    "Base",
    "ChatApproval",
    "ChatEvent",
    "ChatIntegration",
    "ChatReceipt",
    "ChatUser",
    "CodePackage",
    "Deployment",
    "DriftEvent",
    "Function",
    "FunctionVersion",
    "InvocationRecord",
    "Job",
    "JobArtifact",
    "JobReport",
    "Project",
    "ProjectDeployment",
    "ProjectRevision",
    "ProjectTarget",
    "Revision",
    "SavedPlan",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookStream",
    "WebhookSubscription",
]
