"""Serverless Devs 3.x project files (s.yaml): parsing and resolving, faithfully.

parse_project reads the files of a project and returns its resources with
resolved props, deploy layers and hooks; resolve_outputs finishes a
resource's props once the resources it reads outputs from have deployed.
The semantics follow Serverless Devs' parse-spec (its parser package, 3.x).
Where fcplane deliberately differs, the module named says why:

- references resolve on demand, without upstream's two-pass limit, and a
  cycle is an error rather than a raw string or a step sorted last (resolve.py,
  order.py);
- an output reference orders the deploy wherever it reaches props from —
  vars, a template, another resource's props — not only where written (order.py);
- path() answers relative to the project root and cannot check the disk: a
  path outside the submitted files is a warning (functions.py);
- keys with ``${regex()}`` are compiled for ``deploy`` (actions.py, order.py);
  flows of other commands are checked but only warn;
- an environment applies only when named; ``~/.s`` defaults are not read (envyaml.py);
- unknown templates and hooks are errors; ``resources.X.info`` is refused.
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
