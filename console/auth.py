"""The console's login: launching and cancelling trainings, choosing another store in the sidebar and
promoting a version need the console password; the pages stay readable without it.

The password comes from the environment (``.env`` in the compose stack; ``python -m stack`` generates
one when none is set and prints it): ``CONSOLE_PASSWORD``, or ``CONSOLE_PASSWORD_SHA256``, its SHA-256
in hex, so that the environment need not hold the password (it wins when both are set). With neither,
the console is read-only: nobody can log in. A login lasts as long as the browser tab's session (a
reload asks again). Passwords are compared as SHA-256 digests, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import streamlit as st

from core.errors import ConfigError

PASSWORD_VARIABLE = "CONSOLE_PASSWORD"
DIGEST_VARIABLE = "CONSOLE_PASSWORD_SHA256"
PASSWORD_KEY = "console_password"
"""The sidebar's password input (its Streamlit key); ``login`` is its button's, ``logout`` the other."""

_UNLOCKED = "_console_unlocked"
_READ_ONLY = "_console_read_only"
_FAILED = "_console_login_failed"


def sha256(password: str) -> bytes:
    """The SHA-256 digest of ``password`` (UTF-8)."""
    return hashlib.sha256(password.encode()).digest()


@dataclass(frozen=True)
class PasswordGate:
    """The console password, kept as its SHA-256 digest (``None``: none is set, nobody logs in)."""

    digest: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PasswordGate:
        """The gate of ``env`` (default: the process environment): ``CONSOLE_PASSWORD_SHA256``, else
        ``CONSOLE_PASSWORD``; blank values count as unset.

        Raises:
            ConfigError: ``CONSOLE_PASSWORD_SHA256`` is not a SHA-256 digest in hex.
        """
        env = os.environ if env is None else env
        hashed = (env.get(DIGEST_VARIABLE) or "").strip().lower()
        if hashed:
            if not re.fullmatch(r"[0-9a-f]{64}", hashed):
                raise ConfigError(
                    f"{DIGEST_VARIABLE} is not a SHA-256 digest (64 hex digits, e.g. from "
                    "`printf %s 'the password' | sha256sum`): the console stays read-only."
                )
            return cls(bytes.fromhex(hashed))
        password = env.get(PASSWORD_VARIABLE) or ""
        return cls(sha256(password) if password.strip() else None)

    @property
    def configured(self) -> bool:
        """Whether a password is set (else nobody can log in)."""
        return self.digest is not None

    def check(self, password: str) -> bool:
        """Whether ``password`` is the console password (always ``False`` when none is set)."""
        if self.digest is None:
            return False
        return hmac.compare_digest(sha256(password), self.digest)


def login_panel() -> bool:
    """The sidebar's login (a password form, or who is logged in and a log-out button); whether this
    session may write (launch, cancel, change the store, promote)."""
    try:
        gate = PasswordGate.from_env()
    except ConfigError as exc:
        st.error(str(exc))
        gate = PasswordGate()
    st.session_state[_READ_ONLY] = not gate.configured
    if not gate.configured:
        st.session_state.pop(_UNLOCKED, None)
        st.caption(
            f"🔒 Read-only: no console password is set ({PASSWORD_VARIABLE} or {DIGEST_VARIABLE}), "
            "so nobody can launch, cancel or promote here."
        )
        return False
    if unlocked():
        st.caption("🔓 Logged in: you can launch and cancel trainings, change the store and promote.")
        st.button("Log out", key="logout", on_click=st.session_state.pop, args=(_UNLOCKED, None))
        return True
    with st.form("login_form", border=False):
        st.text_input("Console password", type="password", key=PASSWORD_KEY)
        st.form_submit_button("Log in", key="login", on_click=_log_in, args=(gate,))
    if st.session_state.pop(_FAILED, False):
        st.error("Wrong password: still read-only.")
    st.caption("🔒 Read-only until you log in: launching, cancelling and promoting need the console password.")
    return False


def _log_in(gate: PasswordGate) -> None:
    """The login button's callback (it runs before the page is drawn again, which then shows its effect)."""
    if gate.check(st.session_state.get(PASSWORD_KEY) or ""):
        st.session_state[_UNLOCKED] = True
    else:
        st.session_state[_FAILED] = True
    st.session_state[PASSWORD_KEY] = ""  # never kept in the session, nor sent back to the browser


def unlocked() -> bool:
    """Whether this session has logged in (with a password set)."""
    return st.session_state.get(_UNLOCKED) is True


def refusal(action: str) -> str:
    """Why ``action`` (e.g. "launch a training") is refused to this session, in one sentence."""
    if st.session_state.get(_READ_ONLY, True):
        return (
            f"Refused: this console is read-only (no {PASSWORD_VARIABLE} or {DIGEST_VARIABLE} set), "
            f"so it cannot {action}."
        )
    return f"Refused: log in with the console password (sidebar) to {action}."


def allowed(action: str) -> bool:
    """Whether this session may ``action``; when not, an error says why."""
    if unlocked():
        return True
    st.error(refusal(action))
    return False


def locked_help(action: str) -> str | None:
    """The tooltip of a write button this session cannot use (``None`` once logged in)."""
    return None if unlocked() else f"Log in (sidebar) to {action}."
