"""``/monitoring``: the Monitoring page (:mod:`console.views.monitoring`)."""

from console.shell import run_page
from console.views import monitoring

run_page(monitoring.render)
