"""Administration of the office: its services, counters and survey questions (the office TOML, edited
through the same validation as the server's start), and its devices' MQTT credentials (the same code
as `khiu admin device`). Administrators only. Users have their own page (server.web.routes.admin)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import RedirectResponse, Response

from broker_config.cli import device_settings_snippet
from broker_config.conf import DEFAULT_PORT, DEFAULT_TLS_PORT
from broker_config.control import running_broker_pid
from broker_config.devices import add_devices, list_devices, registered_site, remove_device
from broker_config.registry import Device, RegistryError
from broker_config.tls import TlsFiles, certificate_names
from common.config import OfficeConfig
from common.vocabulary import DeviceRole, Lang, ServiceGroup, ServiceKind
from server.reports.labels import GROUP_LABELS, KIND_LABELS
from server.reports.queries import DeviceNow
from server.web.context import WebContext, client_ip
from server.web.dashboard import views
from server.web.dashboard.officefile import OfficeFileError, as_int, find_index, lines
from server.web.dashboard.state import Dashboard, dashboard_of
from server.web.dashboard.texts import text
from server.web.security import Access, guarded_router, visitor

logger = logging.getLogger(__name__)

admin = guarded_router(Access.admin)

Field = Annotated[str, Form(max_length=300)]
LongField = Annotated[str, Form(max_length=5000)]
FileText = Annotated[str, Form(max_length=500_000)]

SERVICE_FIELDS = ("name_th", "name_en", "group", "kind", "prefix", "agency_th", "agency_en")


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _flash(request: Request, kind: str, key: str, **values: object) -> None:
    _web(request).flash_text(request, kind, text(key, Lang.th, **values), text(key, Lang.en, **values))


def _audit(request: Request, action: str, detail: str) -> None:
    session = visitor(request).session
    _web(request).accounts.audit(
        session.user.username if session else None, action, detail, client_ip(request)
    )


def _choices(lang_th: bool) -> dict[str, Any]:
    return {
        "groups": [(g.value, GROUP_LABELS[g][0 if lang_th else 1]) for g in ServiceGroup],
        "kinds": [(k.value, KIND_LABELS[k][0 if lang_th else 1]) for k in ServiceKind],
    }


# ---------------------------------------------------------------------------------------------- overview


@admin.get("/admin/office")
def office_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    lang_th = visitor(request).lang.value == "th"
    return views.render(
        dashboard,
        request,
        "admin_office.html",
        state=dashboard.office_file.state(),
        config=_web(request).office.config,
        **_choices(lang_th),
    )


@admin.get("/admin/office/file")
def file_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    state = dashboard.office_file.state()
    try:
        content = dashboard.office_file.text()
    except OSError:
        content = ""
    return views.render(dashboard, request, "admin_file.html", state=state, content=content, problems=None)


@admin.post("/admin/office/file")
def save_file(request: Request, content: FileText) -> Response:
    dashboard = dashboard_of(request)
    try:
        dashboard.office_file.save_text(content)
    except OfficeFileError as exc:
        return views.render(
            dashboard,
            request,
            "admin_file.html",
            status_code=400,
            state=dashboard.office_file.state(),
            content=content,
            problems=exc.problems,
        )
    _audit(request, "office.file", "whole file")
    _flash(request, "ok", "restart_needed")
    return RedirectResponse("/admin/office", status_code=303)


# ---------------------------------------------------------------------------------------------- editing


def _save(
    request: Request,
    dashboard: Dashboard,
    change: Callable[[dict[str, Any]], None],
    *,
    audit: str,
    form: str,
    context: dict[str, Any],
) -> Response:
    """Apply `change` to the file's data and save it, or show the form again with the problems."""
    try:
        data = dashboard.office_file.data()
        change(data)
        dashboard.office_file.save_data(data)
    except OfficeFileError as exc:
        lang_th = visitor(request).lang.value == "th"
        return views.render(
            dashboard,
            request,
            form,
            status_code=400,
            state=dashboard.office_file.state(),
            problems=exc.problems,
            bad_fields=bad_fields(exc.problems),
            config=_web(request).office.config,
            **_choices(lang_th),
            **context,
        )
    _audit(request, "office.edit", audit)
    _flash(request, "ok", "restart_needed")
    return RedirectResponse("/admin/office", status_code=303)


_KEY_OF_PROBLEM = re.compile(r"^\S*?\.(\w+)(?:\[\d+\])?:")


def bad_fields(problems: list[str]) -> set[str]:
    """The form fields the problems name (`services[4].prefix: ...` → prefix), to mark them."""
    return {m.group(1) for m in map(_KEY_OF_PROBLEM.match, problems) if m}


class _Missing(OfficeFileError):
    """The entry a form names is no longer in the file (removed meanwhile, or a stale page)."""

    def __init__(self, what: str) -> None:
        super().__init__([f"{what}: not in the office file (removed meanwhile?)"])


def _entry(data: dict[str, Any], table: str, key: str, name: str) -> dict[str, Any]:
    entries = data.setdefault(table, [])
    index = find_index(entries, key, name)
    if index is None:
        raise _Missing(f"{table} {key} = {name!r}")
    entry: dict[str, Any] = entries[index]
    return entry


# ------------------------------------------------------------------------------------------------ services


def _service_values(
    name_th: str,
    name_en: str,
    group: str,
    kind: str,
    prefix: str,
    agency_th: str,
    agency_en: str,
    standard_minutes: str,
    daily_cap: str,
    documents_th: str,
    documents_en: str,
    enabled: str,
) -> dict[str, Any]:
    return {
        "name_th": name_th.strip(),
        "name_en": name_en.strip(),
        "group": group,
        "kind": kind,
        "prefix": prefix.strip(),
        "agency_th": agency_th.strip(),
        "agency_en": agency_en.strip(),
        "standard_minutes": as_int(standard_minutes),
        "daily_cap": as_int(daily_cap) if daily_cap.strip() else None,
        "documents_th": lines(documents_th),
        "documents_en": lines(documents_en),
        "enabled": enabled == "on",
    }


def _apply(entry: dict[str, Any], values: dict[str, Any]) -> None:
    """Set the form's values; an emptied optional field leaves the file (TOML has no null)."""
    for key, value in values.items():
        if value is None or (isinstance(value, list) and not value and key not in entry):
            entry.pop(key, None)
        else:
            entry[key] = value


@admin.get("/admin/office/services/{code}")
def service_page(request: Request, code: str) -> Response:
    dashboard = dashboard_of(request)
    config = _web(request).office.config
    lang_th = visitor(request).lang.value == "th"
    new = code == "new"
    values: dict[str, Any] = {}
    if not new:
        try:
            values = _entry(dashboard.office_file.data(), "services", "code", code)
        except (OfficeFileError, OSError, ValueError):
            service = config.service_by_code(code)  # the file is unreadable: show what runs
            values = service.model_dump(mode="json") if service else {}
    return views.render(
        dashboard,
        request,
        "admin_service.html",
        status_code=200 if new or values else 404,
        state=dashboard.office_file.state(),
        new=new,
        code=code,
        values=values,
        problems=None,
        config=config,
        **_choices(lang_th),
    )


@admin.post("/admin/office/services/{code}")
def save_service(
    request: Request,
    code: str,
    name_th: Field = "",
    name_en: Field = "",
    group: Field = "",
    kind: Field = "",
    prefix: Field = "",
    agency_th: Field = "",
    agency_en: Field = "",
    standard_minutes: Field = "",
    daily_cap: Field = "",
    documents_th: LongField = "",
    documents_en: LongField = "",
    enabled: Field = "",
    new_code: Field = "",
    counters: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Change a service (or add one, `code` = new, with the counters that will call it)."""
    dashboard = dashboard_of(request)
    values = _service_values(
        name_th,
        name_en,
        group,
        kind,
        prefix,
        agency_th,
        agency_en,
        standard_minutes,
        daily_cap,
        documents_th,
        documents_en,
        enabled,
    )
    new = code == "new"
    chosen = counters or []

    def change(data: dict[str, Any]) -> None:
        if new:
            entry: dict[str, Any] = {"code": new_code.strip()}
            _apply(entry, values)
            data.setdefault("services", []).append(entry)
            for counter in data.get("counters", []):
                if counter.get("id") in chosen:
                    counter["services"] = [*counter.get("services", []), entry["code"]]
        else:
            _apply(_entry(data, "services", "code", code), values)

    shown = {**values, "code": new_code if new else code}
    return _save(
        request,
        dashboard,
        change,
        audit=f"service {new_code if new else code}",
        form="admin_service.html",
        context={"new": new, "code": code, "values": shown, "chosen_counters": chosen},
    )


@admin.post("/admin/office/services/{code}/remove")
def remove_service(request: Request, code: str) -> Response:
    dashboard = dashboard_of(request)

    def change(data: dict[str, Any]) -> None:
        entry = _entry(data, "services", "code", code)
        data["services"].remove(entry)

    return _save(
        request,
        dashboard,
        change,
        audit=f"remove service {code}",
        form="admin_office.html",
        context={},
    )


# ------------------------------------------------------------------------------------------------ counters


@admin.get("/admin/office/counters/{counter_id}")
def counter_page(request: Request, counter_id: str) -> Response:
    dashboard = dashboard_of(request)
    config = _web(request).office.config
    new = counter_id == "new"
    values: dict[str, Any] = {}
    if not new:
        try:
            values = _entry(dashboard.office_file.data(), "counters", "id", counter_id)
        except (OfficeFileError, OSError, ValueError):
            counter = config.counter_by_id(counter_id)  # the file is unreadable: show what runs
            values = counter.model_dump(mode="json") if counter else {}
    return views.render(
        dashboard,
        request,
        "admin_counter.html",
        status_code=200 if new or values else 404,
        state=dashboard.office_file.state(),
        new=new,
        counter_id=counter_id,
        values=values,
        problems=None,
        config=config,
    )


@admin.post("/admin/office/counters/{counter_id}")
def save_counter(
    request: Request,
    counter_id: str,
    name_th: Field = "",
    name_en: Field = "",
    number: Field = "",
    new_id: Field = "",
    services: Annotated[list[str] | None, Form()] = None,
) -> Response:
    dashboard = dashboard_of(request)
    new = counter_id == "new"
    values: dict[str, Any] = {
        "name_th": name_th.strip(),
        "name_en": name_en.strip(),
        "number": as_int(number),
        "services": services or [],
    }

    def change(data: dict[str, Any]) -> None:
        if new:
            data.setdefault("counters", []).append({"id": new_id.strip(), **values})
        else:
            _entry(data, "counters", "id", counter_id).update(values)

    return _save(
        request,
        dashboard,
        change,
        audit=f"counter {new_id if new else counter_id}",
        form="admin_counter.html",
        context={
            "new": new,
            "counter_id": counter_id,
            "values": {**values, "id": new_id if new else counter_id},
        },
    )


@admin.post("/admin/office/counters/{counter_id}/remove")
def remove_counter(request: Request, counter_id: str) -> Response:
    dashboard = dashboard_of(request)

    def change(data: dict[str, Any]) -> None:
        entry = _entry(data, "counters", "id", counter_id)  # first: it refuses a file without the table
        data["counters"].remove(entry)

    return _save(
        request, dashboard, change, audit=f"remove counter {counter_id}", form="admin_office.html", context={}
    )


# -------------------------------------------------------------------------------------------------- survey


def _item(data: dict[str, Any], item_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(section, item) of an item id in the file's data."""
    for section in data.get("survey", {}).get("sections", []):
        for item in section.get("items", []):
            if item.get("id") == item_id:
                return section, item
    raise _Missing(f"survey item {item_id!r}")


@admin.get("/admin/office/survey/{item_id}")
def item_page(request: Request, item_id: str) -> Response:
    dashboard = dashboard_of(request)
    config = _web(request).office.config
    new = item_id == "new"
    section_id = ""
    values: dict[str, Any] = {}
    if not new:
        try:
            section, values = _item(dashboard.office_file.data(), item_id)
            section_id = section.get("id", "")
        except (OfficeFileError, OSError, ValueError):
            for sec in config.survey.sections:
                for it in sec.items:
                    if it.id == item_id:
                        section_id, values = sec.id, it.model_dump()
    return views.render(
        dashboard,
        request,
        "admin_item.html",
        status_code=200 if new or values else 404,
        state=dashboard.office_file.state(),
        new=new,
        item_id=item_id,
        section_id=section_id,
        values=values,
        problems=None,
        config=config,
    )


@admin.post("/admin/office/survey/{item_id}")
def save_item(
    request: Request,
    item_id: str,
    text_th: Field = "",
    text_en: Field = "",
    section: Field = "",
    new_id: Field = "",
) -> Response:
    dashboard = dashboard_of(request)
    new = item_id == "new"
    values = {"text_th": text_th.strip(), "text_en": text_en.strip()}

    def change(data: dict[str, Any]) -> None:
        if new:
            sections = data.get("survey", {}).get("sections", [])
            target = next((s for s in sections if s.get("id") == section), None)
            if target is None:
                raise _Missing(f"survey section {section!r}")
            target.setdefault("items", []).append({"id": new_id.strip(), **values})
        else:
            _item(data, item_id)[1].update(values)

    return _save(
        request,
        dashboard,
        change,
        audit=f"survey item {new_id if new else item_id}",
        form="admin_item.html",
        context={
            "new": new,
            "item_id": item_id,
            "section_id": section,
            "values": {**values, "id": new_id if new else item_id},
        },
    )


@admin.post("/admin/office/survey/{item_id}/remove")
def remove_item(request: Request, item_id: str) -> Response:
    dashboard = dashboard_of(request)

    def change(data: dict[str, Any]) -> None:
        section, item = _item(data, item_id)
        section["items"].remove(item)

    return _save(
        request,
        dashboard,
        change,
        audit=f"remove survey item {item_id}",
        form="admin_office.html",
        context={},
    )


# ------------------------------------------------------------------------------------------------- devices


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device as the devices page lists it."""

    id: str
    role: str
    counter: str | None
    name: str
    registered: bool
    in_office_file: bool
    now: DeviceNow | None


def _device_rows(
    dashboard: Dashboard, config: OfficeConfig, lang_th: bool, request: Request
) -> list[DeviceRow]:
    web = _web(request)
    registered = {d.id: d for d in list_devices(dashboard.settings.broker_files)}
    presence = {d.device: d for d in dashboard.office_records(today=web.today()).devices}
    rows = []
    for device in config.devices:
        reg = registered.pop(device.id, None)
        rows.append(
            DeviceRow(
                id=device.id,
                role=device.role.value,
                counter=device.counter,
                name=device.name_th if lang_th else device.name_en,
                registered=reg is not None,
                in_office_file=True,
                now=presence.get(device.id),
            )
        )
    for reg in registered.values():
        rows.append(
            DeviceRow(
                id=reg.id,
                role=reg.role.value,
                counter=reg.counter,
                name=reg.id,
                registered=True,
                in_office_file=False,
                now=presence.get(reg.id),
            )
        )
    return rows


def _broker_host(dashboard: Dashboard) -> str:
    """The address devices on the LAN use: the TLS certificate's first LAN name, else loopback (as
    `khiu admin device add` says it)."""
    tls = TlsFiles(dashboard.settings.broker_files.tls_dir)
    if tls.ready():
        dns_names, ips = certificate_names(tls.server_cert)
        for name in [*dns_names, *ips]:
            if name not in {"localhost", "127.0.0.1", "::1"}:
                return name
    return "127.0.0.1"


def _devices_page(request: Request, *, status_code: int = 200, **context: Any) -> Response:
    dashboard = dashboard_of(request)
    config = _web(request).office.config
    lang_th = visitor(request).lang.value == "th"
    files = dashboard.settings.broker_files
    return views.render(
        dashboard,
        request,
        "admin_devices.html",
        status_code=status_code,
        rows=_device_rows(dashboard, config, lang_th, request),
        roles=[r.value for r in DeviceRole],
        config=config,
        broker_dir=files.dir,
        broker_running=running_broker_pid(files) is not None,
        **context,
    )


@admin.get("/admin/devices")
def devices_page(request: Request) -> Response:
    return _devices_page(request, settings=None, error=None)


def _register(request: Request, device: Device) -> Response:
    dashboard = dashboard_of(request)
    config = _web(request).office.config
    files = dashboard.settings.broker_files
    (credentials,) = add_devices(files, [device], site=None if registered_site(files) else config.office.id)
    tls_on = TlsFiles(files.tls_dir).ready()
    snippet = device_settings_snippet(
        credentials,
        site=registered_site(files) or config.office.id,
        host="127.0.0.1" if device.role is DeviceRole.server else _broker_host(dashboard),
        port=DEFAULT_PORT,
        tls_port=DEFAULT_TLS_PORT if tls_on else None,
        tls_ca=TlsFiles(files.tls_dir).ca_cert if tls_on else None,
    )
    _audit(
        request,
        "device.rotate" if credentials.rotated else "device.add",
        f"{device.id} role={device.role.value}",
    )
    key = "device_rotated" if credentials.rotated else "device_added"
    return _devices_page(request, settings=(device.id, snippet), done_key=key, error=None)


@admin.post("/admin/devices")
def add_device(request: Request, device_id: Field = "", role: Field = "", counter: Field = "") -> Response:
    try:
        device = Device.create(device_id.strip(), role, counter.strip() or None)
        return _register(request, device)
    except RegistryError as exc:
        return _devices_page(request, status_code=400, settings=None, error=str(exc))


@admin.post("/admin/devices/{device_id}/rotate")
def rotate_device(request: Request, device_id: str) -> Response:
    dashboard = dashboard_of(request)
    known = {d.id: d for d in list_devices(dashboard.settings.broker_files)}
    config_device = _web(request).office.config.device_by_id(device_id)
    try:
        device = known.get(device_id) or (
            Device.create(config_device.id, config_device.role, config_device.counter)
            if config_device
            else None
        )
        if device is None:
            raise RegistryError(f"no device {device_id!r}")
        return _register(request, device)
    except RegistryError as exc:
        return _devices_page(request, status_code=400, settings=None, error=str(exc))


@admin.post("/admin/devices/{device_id}/remove")
def remove_device_route(request: Request, device_id: str) -> Response:
    dashboard = dashboard_of(request)
    try:
        remove_device(dashboard.settings.broker_files, device_id)
    except RegistryError as exc:
        return _devices_page(request, status_code=400, settings=None, error=str(exc))
    _audit(request, "device.remove", device_id)
    _flash(request, "ok", "device_removed", name=device_id)
    return RedirectResponse("/admin/devices", status_code=303)
