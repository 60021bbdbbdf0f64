"""Train page: choose families, variants, profile and hyper-parameters (the CLI's typed
config), queue the training as a background job, follow and cancel it (launching and cancelling
need the console login: :mod:`console.auth`)."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from console import auth
from console.jobs import CANCELLED, FAILED, FINISHED, QUEUED, RUNNING, Job, JobQueue
from console.store import Store
from core.config import PREPROCESSING_VARIANTS, PROFILES, SPLIT_STRATEGIES, PipelineConfig, get_profile
from core.errors import CoreError
from core.models import FAMILIES
from core.training.progress import log_progress

POLL_S = 2.0
_STATUS_ICONS = {QUEUED: "⏳", RUNNING: "🏃", FINISHED: "✅", FAILED: "❌", CANCELLED: "🛑"}
_EDITABLE_TYPES = ("bool", "int", "float", "str")
_REFUSED = "train_refused_message"
_LAUNCH, _CANCEL = "launch a training", "cancel or remove a training job"


def render(store: Store) -> None:
    """The Train page."""
    st.header("Train")
    st.caption(
        "Each launch is a `python -m core train` job in a process of its own: it keeps running when "
        "this tab is closed; launches queue and run one at a time."
    )
    args, description = training_form()
    # Not disabled when locked: a click says why it is refused.
    clicked = st.button("Launch training", type="primary", key="launch", help=auth.locked_help(_LAUNCH))
    if clicked and auth.allowed(_LAUNCH):
        try:
            job = store.jobs.submit([*args, "--tracking-uri", store.uri], description)
        except CoreError as exc:
            st.error(str(exc))
        else:
            st.success(f"Queued job #{job.id}: {description}")
    jobs_panel(store.jobs)


def training_form() -> tuple[list[str], str]:
    """The launch options as ``python -m core train`` arguments, and a one-line description."""
    profile = st.selectbox(
        "Profile", list(PROFILES), index=list(PROFILES).index("quick"), key="profile", help=_doc(PROFILES)
    )
    config = get_profile(profile)
    left, right = st.columns(2)
    with left:
        families = st.multiselect("Model families", list(FAMILIES), default=list(config.families), key=f"fam-{profile}")
        default_variants = list(config.preprocessing)
        variants = st.multiselect(
            "Preprocessing variants",
            PREPROCESSING_VARIANTS,
            default=default_variants,
            key=f"pre-{profile}",
            help="Left as the profile has them, the deep families keep their own ('none'); a change applies to all.",
        )
        tunable = [f for f in families if f in config.tuning.search_spaces]
        default_tuned = [f for f in config.tuning.families if f in tunable]
        tuned = st.multiselect("Tune first with Optuna", tunable, default=default_tuned, key=f"tune-{profile}")
        trials = st.number_input(
            "Optuna trials per tuned family", 1, 200, config.tuning.n_trials, key=f"trials-{profile}"
        )
    with right:
        data_path = st.text_input("Training data (Sentiment140 CSV)", str(config.data.path), key=f"data-{profile}")
        max_rows = st.number_input(
            "Rows used (stratified sample; empty: all)", 20, None, config.data.max_rows, key=f"rows-{profile}"
        )
        split = st.selectbox("Split", SPLIT_STRATEGIES, key=f"split-{profile}")
        seed = st.number_input("Seed", 0, None, config.seed, key=f"seed-{profile}")
        ood = st.checkbox("Out-of-domain check (twitter_samples)", config.data.ood, key=f"ood-{profile}")
    overrides = []
    for family in families:
        with st.expander(f"{family} hyper-parameters"):
            overrides += hyper_parameter_overrides(config, family, profile)

    args = ["--profile", profile, "--data", data_path, "--split", split, "--seed", str(int(seed))]
    args += ["--model", *families] if families else ["--set", "families="]  # none: refused by the config
    if variants and variants != default_variants:
        args += ["--preprocessing", *variants]
    elif not variants:
        args += ["--set", "preprocessing="]  # none: refused by the config
    if max_rows != config.data.max_rows:
        args += ["--set", f"data.max_rows={'none' if max_rows is None else int(max_rows)}"]
    if not ood:
        args.append("--no-ood")
    if tuned != default_tuned:
        args += ["--tune", *tuned] if tuned else ["--set", "tuning.families="]
    if int(trials) != config.tuning.n_trials:
        args += ["--trials", str(int(trials))]
    for assignment in overrides:
        args += ["--set", assignment]
    description = f"{profile}: {', '.join(families) or '-'} × {', '.join(variants) or '-'}"
    return args, description


def _doc(profiles: dict[str, Any]) -> str:
    return " · ".join(f"{name}: {(factory.__doc__ or '').strip()}" for name, factory in profiles.items())


def hyper_parameter_overrides(config: PipelineConfig, family: str, profile: str) -> list[str]:
    """Inputs for one family's scalar settings; ``--set`` assignments for the changed ones."""
    family_config = config.models.for_family(family)
    out = []
    for f in dataclasses.fields(family_config):
        kind = str(f.type).replace(" | None", "")
        if kind not in _EDITABLE_TYPES:
            continue
        default = getattr(family_config, f.name)
        key = f"hp-{profile}-{family}-{f.name}"
        if kind == "bool":
            value = st.checkbox(f.name, default, key=key)
        elif kind == "int":
            value = st.number_input(f.name, value=default, step=1, key=key)
        elif kind == "float":
            value = st.number_input(f.name, value=default, step=None, format="%g", key=key)
        else:
            value = st.text_input(f.name, default or "", key=key) or None
        if value != default:
            out.append(f"models.{family}.{f.name}={'none' if value is None else value}")
    return out


@st.fragment(run_every=POLL_S)
def jobs_panel(queue: JobQueue) -> None:
    """The running job's progress and log tail, the queue, and the recent jobs (polled)."""
    queue.refresh()
    if refused := st.session_state.pop(_REFUSED, None):
        st.error(refused)
    jobs = queue.jobs(limit=20)
    if not jobs:
        st.caption("No training job yet.")
        return
    for job in [j for j in jobs if j.status == RUNNING]:
        running_job(queue, job)
    for job in sorted((j for j in jobs if j.status == QUEUED), key=lambda j: j.id):
        left, right = st.columns([4, 1])
        left.write(f"⏳ Job #{job.id} queued: {job.description}")
        right.button("Remove", key=f"cancel-{job.id}", on_click=cancel, args=(queue, job.id), help=_cancel_help())
    st.subheader("Recent jobs")
    st.dataframe(jobs_table(jobs), hide_index=True, width="stretch")


def running_job(queue: JobQueue, job: Job) -> None:
    """Progress bar, stage, epoch/step, log tail and a cancel button for a running job."""
    st.subheader(f"Job #{job.id}: {job.description}")
    report = job.progress()
    tail = job.log_tail(40)
    counters = log_progress(tail)
    if report is None:
        text = "starting (loading libraries and data)"
        fraction = 0.0
    else:
        run = f"run {report.run_index}/{report.run_total} {report.run_name} · " if report.run_index else ""
        text, fraction = f"{run}{report.stage}", report.fraction
    st.progress(fraction, text=f"{fraction:.0%} · {text}")
    details = []
    if counters.epoch:
        details.append(f"epoch {counters.epoch[0]}/{counters.epoch[1]}")
    if counters.step:
        details.append(f"step {counters.step[0]}/{counters.step[1]}")
    if job.started_at:
        details.append(f"running for {time.time() - job.started_at:.0f} s")
    st.caption(" · ".join(details))
    if job.cancel_requested:
        st.warning("Cancelling: the current run will end as KILLED, nothing of it registered.")
    else:  # a callback: it runs before the panel is drawn again, so the panel shows its effect
        st.button("Cancel this job", key=f"cancel-{job.id}", on_click=cancel, args=(queue, job.id), help=_cancel_help())
    st.code(tail or "(no output yet)", language="text")


def cancel(queue: JobQueue, job_id: int) -> None:
    """A Cancel/Remove button's callback: cancel the job if this session is logged in, else say why."""
    if auth.unlocked():
        queue.cancel(job_id)
    else:
        st.session_state[_REFUSED] = auth.refusal(_CANCEL)


def _cancel_help() -> str | None:
    return auth.locked_help(_CANCEL)  # Not disabled when locked either: the click says why


def jobs_table(jobs: list[Job]) -> pd.DataFrame:
    """The jobs as a table: id, status, description, start, duration, exit code."""

    def when(ts: float | None) -> str:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""

    return pd.DataFrame(
        {
            "job": [j.id for j in jobs],
            "status": [f"{_STATUS_ICONS.get(j.status, '')} {j.status}" for j in jobs],
            "what": [j.description for j in jobs],
            "started": [when(j.started_at) for j in jobs],
            "duration_s": [
                round((j.finished_at or time.time()) - j.started_at) if j.started_at else None for j in jobs
            ],
            "exit_code": [j.exit_code for j in jobs],
        }
    )
