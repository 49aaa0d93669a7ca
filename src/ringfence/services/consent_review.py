"""The consent part of the KYC review: the consent scanner run over the current consent text
of every CRM-hosted form of the account.

It passes when the account has at least one form and every form's current text is valid for
outbound voice opt-in. Otherwise the reasons say which forms fall short and of what, and the
registration waits for an operator (who may still approve it: a practice can keep a form that
is not meant for calls, whose submissions then never carry voice consent).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ringfence.adapters.db.orm import Account, Form, FormVersion
from ringfence.domain.consent_scan.scanner import ConsentScan, scan
from ringfence.services.forms import current_version


def business_names(account: Account) -> list[str]:
    """The names a consent text may identify the practice by: its trading name first."""
    names = [account.name, account.legal_name or ""]
    return [n for i, n in enumerate(names) if n.strip() and n not in names[:i]]


def best_scan(text: str, names: list[str]) -> tuple[ConsentScan, str]:
    """The scan under whichever of the practice's names the text uses (the best result)."""
    results = [(scan(text, business_name=name), name) for name in names]
    return max(results, key=lambda pair: (pair[0].valid_for_voice_opt_in, pair[0].score))


def scan_form_text(text: str, account: Account) -> ConsentScan:
    return best_scan(text, business_names(account))[0]


def scan_version(version: FormVersion, account: Account) -> ConsentScan:
    """Judge a new version of a form's consent text and keep the verdict on it: "it runs
    again whenever a form's consent text changes"."""
    result, name = best_scan(version.consent_text, business_names(account))
    version.scan = result.as_dict() | {"recommended_text": result.recommended_text}
    version.scanned_as = name
    return result


def valid_for_voice(version: FormVersion, account: Account) -> bool:
    """The stored verdict on the version (judged anew if it predates the scanner)."""
    return scan_verdict(version, account)[0]


def scan_verdict(version: FormVersion, account: Account) -> tuple[bool, str, str]:
    """(valid for voice opt-in, scanner version, the blocking gaps) of a form version: the
    verdict stored when the version was made, or judged now if it predates the scanner.
    A consent record keeps the first two: the form text the person agreed to is judged as it
    was judged then, not by a later scanner."""
    if version.scan is not None:
        stored = version.scan
        findings = stored.get("findings") or []
        gaps = ", ".join(
            f"{f.get('element')} {f.get('status')}"
            for f in findings
            if isinstance(f, dict) and f.get("blocking") and f.get("status") != "present"
        )
        return (
            bool(stored.get("valid_for_voice_opt_in")),
            str(stored.get("scanner_version") or "1"),
            gaps,
        )
    result = scan_form_text(version.consent_text, account)
    judged_by = str(result.as_dict().get("scanner_version") or "1")
    return result.valid_for_voice_opt_in, judged_by, _gaps(result)


def _gaps(result: ConsentScan) -> str:
    return ", ".join(
        f"{f.element} {f.status}" for f in result.findings if f.blocking and f.status != "present"
    )


def consent_problems(session: Session, account_id: int, business_name: str) -> tuple[str, ...]:
    forms = session.scalars(
        select(Form).where(Form.account_id == account_id).order_by(Form.id)
    ).all()
    texts = [(form, current_version(form)) for form in forms]
    texts = [(form, version) for form, version in texts if version and version.consent_text]
    if not texts:
        return (
            "no CRM-hosted form with consent text yet: contacts can only opt in to calls "
            "through one (or by confirmed written consent)",
        )
    account = session.get(Account, account_id)
    assert account is not None  # the caller's account
    problems: list[str] = []
    for form, version in texts:
        assert version is not None
        result, _name = best_scan(version.consent_text, [*business_names(account), business_name])
        if not result.valid_for_voice_opt_in:
            gaps = _gaps(result)
            problems.append(
                f"form {form.id} ({form.name!r}) is not valid for outbound opt-in: {gaps}"
            )
    return tuple(problems)
