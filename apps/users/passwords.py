"""A user pool's password policy and the checks Cognito makes, made here first so a
refused password never reaches Cognito (and moto, which does not check temporary
passwords, behaves like Cognito in tests)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Cognito's "special characters" (its documentation's list); a space counts when it is
# neither the first nor the last character.
SYMBOLS = frozenset("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")
MAX_LENGTH = 256  # AdminSetUserPassword and AdminCreateUser take at most 256 characters
_LOWER = re.compile(r"[a-z]")
_UPPER = re.compile(r"[A-Z]")
_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True)
class PasswordPolicy:
    """Cognito's defaults unless the pool says otherwise."""

    min_length: int = 8
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_numbers: bool = True
    require_symbols: bool = True

    def rules(self) -> list[str]:
        """The policy in words, for the forms that ask for a password."""
        rules = [f"at least {self.min_length} characters"]
        if self.require_lowercase:
            rules.append("a lowercase letter (a-z)")
        if self.require_uppercase:
            rules.append("an uppercase letter (A-Z)")
        if self.require_numbers:
            rules.append("a digit (0-9)")
        if self.require_symbols:
            rules.append("a symbol such as ! @ # $ % ^ & * - _ + =")
        return rules

    def problems(self, password: str) -> list[str]:
        """What `password` lacks, in words; [] when Cognito would take it."""
        if not password:
            return ["Enter a password."]
        problems = []
        if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in password):
            problems.append("It may not hold control or invisible formatting characters.")
        if password != password.strip():
            problems.append("It may not start or end with a space.")
        if len(password) < self.min_length:
            problems.append(f"It needs at least {self.min_length} characters (it has {len(password)}).")
        if len(password) > MAX_LENGTH:
            problems.append(f"It may have at most {MAX_LENGTH} characters.")
        if self.require_lowercase and not _LOWER.search(password):
            problems.append("It needs a lowercase letter (a-z).")
        if self.require_uppercase and not _UPPER.search(password):
            problems.append("It needs an uppercase letter (A-Z).")
        if self.require_numbers and not _DIGIT.search(password):
            problems.append("It needs a digit (0-9).")
        if self.require_symbols and not (set(password) & SYMBOLS or " " in password.strip()):
            problems.append("It needs a symbol such as ! @ # $ % ^ & * - _ + =.")
        return problems


def policy_from_outputs(raw: Any) -> PasswordPolicy | None:
    """The `auth.password_policy` of amplify_outputs.json, or None when it has none."""
    if not isinstance(raw, dict) or not isinstance(raw.get("min_length"), int):
        return None
    return PasswordPolicy(
        min_length=raw["min_length"],
        require_lowercase=bool(raw.get("require_lowercase", True)),
        require_uppercase=bool(raw.get("require_uppercase", True)),
        require_numbers=bool(raw.get("require_numbers", True)),
        require_symbols=bool(raw.get("require_symbols", True)),
    )


def policy_from_cognito(raw: Any) -> PasswordPolicy:
    """DescribeUserPool's `Policies.PasswordPolicy` (absent flags are Cognito's defaults)."""
    raw = raw if isinstance(raw, dict) else {}
    return PasswordPolicy(
        min_length=int(raw.get("MinimumLength", 8)),
        require_lowercase=bool(raw.get("RequireLowercase", True)),
        require_uppercase=bool(raw.get("RequireUppercase", True)),
        require_numbers=bool(raw.get("RequireNumbers", True)),
        require_symbols=bool(raw.get("RequireSymbols", True)),
    )
