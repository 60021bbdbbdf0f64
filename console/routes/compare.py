"""``/compare``: the Compare page (:mod:`console.views.compare`)."""

from console.shell import run_page
from console.views import compare

run_page(compare.render)
