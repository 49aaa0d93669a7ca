"""A workflow's use cases as the API and the dashboard run them: create a draft (blank or from a
template), edit it, publish, unpublish, delete, forecast. One transaction each, committed here
when the change is accepted; a refused change is rolled back at once, so a page that shows the
form again reads the workflow as stored. The rules themselves are in `manage.py`.
"""

from __future__ import annotations

from typing import Any

from ringfence.adapters.db.workflows import Workflow
from ringfence.domain.workflows.forecast import Cadence
from ringfence.services.tenancy import get_owned
from ringfence.services.unit_of_work import TenantScope, UnitOfWork, all_or_nothing
from ringfence.services.workflows import manage
from ringfence.services.workflows.forecast import WorkflowForecast, forecast_workflow
from ringfence.services.workflows.templates import Template


def create_draft(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    name: str,
    location_id: int,
    definition: dict[str, Any],
) -> Workflow:
    """A new draft workflow, its definition validated in full; committed."""
    with all_or_nothing(uow):
        return manage.create_workflow(
            uow.session,
            scope,
            name=name,
            location_id=location_id,
            definition=definition,
            now=uow.clock.now(),
        )


def create_draft_from_template(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    template: Template,
    name: str,
    location_id: int,
    agent_id: int,
    from_number_id: int,
) -> Workflow:
    """A draft from one of the use-case templates (the tags it applies created if missing);
    committed."""
    with all_or_nothing(uow):
        return manage.create_from_template(
            uow.session,
            scope,
            template=template,
            name=name,
            location_id=location_id,
            agent_id=agent_id,
            from_number_id=from_number_id,
            now=uow.clock.now(),
        )


def edit_draft(
    *,
    uow: UnitOfWork,
    scope: TenantScope,
    workflow_id: int,
    name: str | None = None,
    definition: dict[str, Any] | None = None,
) -> Workflow:
    """Change the draft's name and/or definition (None: unchanged); committed. A published
    workflow keeps running its published version until published again."""
    with all_or_nothing(uow):
        workflow = get_owned(uow.session, Workflow, workflow_id, scope)
        manage.update_workflow(
            uow.session, scope, workflow, name=name, definition=definition, now=uow.clock.now()
        )
        return workflow


def publish(
    *, uow: UnitOfWork, scope: TenantScope, workflow_id: int, confirm_audience: int | None
) -> manage.Published:
    """Make the draft the running version; committed. `manage.ConfirmationRequired` when a
    large audience is not confirmed (nothing is written)."""
    with all_or_nothing(uow):
        workflow = get_owned(uow.session, Workflow, workflow_id, scope)
        return manage.publish(
            uow.session, scope, workflow, now=uow.clock.now(), confirm_audience=confirm_audience
        )


def unpublish(*, uow: UnitOfWork, scope: TenantScope, workflow_id: int) -> int:
    """Back to draft, its open enrollments exited and pending calls canceled; committed.
    Returns how many calls were canceled."""
    with all_or_nothing(uow):
        workflow = get_owned(uow.session, Workflow, workflow_id, scope)
        return manage.unpublish(uow.session, scope, workflow, now=uow.clock.now())


def delete_draft(*, uow: UnitOfWork, scope: TenantScope, workflow_id: int) -> None:
    """Delete a workflow that is not published (`Conflict` otherwise); committed."""
    with all_or_nothing(uow):
        workflow = get_owned(uow.session, Workflow, workflow_id, scope)
        manage.delete_workflow(uow.session, scope, workflow, now=uow.clock.now())


def forecast(
    *, uow: UnitOfWork, scope: TenantScope, workflow_id: int, cadence: Cadence
) -> WorkflowForecast:
    """The draft's forecast (`forecast.py`); a read: whatever it touched is rolled back before
    the answer is returned, so nothing of it can be written later in the same unit of work."""
    workflow = get_owned(uow.session, Workflow, workflow_id, scope)
    try:
        return forecast_workflow(uow.session, workflow, now=uow.clock.now(), cadence=cadence)
    finally:
        uow.rollback()
