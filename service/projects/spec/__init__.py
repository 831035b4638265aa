"""Serverless Devs 3.x project files (s.yaml): parsing and resolving, faithfully.

parse_project reads the files of a project and returns its resources with
resolved props, deploy layers and hooks; resolve_outputs finishes a
resource's props once the resources it reads outputs from have deployed.
The semantics follow Serverless Devs' parse-spec (see the research notes in
shared/sdevs/yaml-spec.md); where fcplane differs, the module saying so is
named in its docstring.
"""

from service.projects.spec.errors import SpecError
from service.projects.spec.model import Action, Project, Resource
from service.projects.spec.outputs import resolve_outputs
from service.projects.spec.pending import Deferred, Pending
from service.projects.spec.project import parse_project

__all__ = [
    "Action",
    "Deferred",
    "Pending",
    "Project",
    "Resource",
    "SpecError",
    "parse_project",
    "resolve_outputs",
]
