"""``/model``: the Model page (:mod:`console.views.model`)."""

from console.shell import run_page
from console.views import model

run_page(model.render)
