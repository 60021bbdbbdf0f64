"""``/``: the Train page, the default one (:mod:`console.views.train`)."""

from console.shell import run_page
from console.views import train

run_page(train.render)
