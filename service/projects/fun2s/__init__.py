"""fun2s: a Funcraft ``template.yml`` as an fc3 ``s.yaml`` for Function Compute 3.0.

``convert_template`` returns the s.yaml text and data, plus what it could not carry
(``unmapped``, each with its template path and reason) and the judgement calls it made
(``warnings``). Nothing in the template is dropped without one or the other.
"""

from service.projects.fun2s.schemas import Conversion, TemplateError, Unmapped
from service.projects.fun2s.service import convert_template

__all__ = ["Conversion", "TemplateError", "Unmapped", "convert_template"]
