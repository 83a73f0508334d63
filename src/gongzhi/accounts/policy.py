"""The role policy: which role may do what to which model. Where it may do it is the role's place (scope).

Every model label not listed here is out of reach for that role. Admins may do everything everywhere.
A user may always *view* their own user record.

Roles that work *for a body* rather than *on a place* (mediator, department handler, co-building unit) reach only
the cases passed to their body (:data:`PASSED_ONLY`): a case dispatched to the mediation team, the police station,
the unit. The ground their place or body covers still gives them its places to read, never its cases.
"""

from __future__ import annotations

from gongzhi.accounts.choices import Role

VIEW = frozenset({"view"})
VIEW_REVEAL = frozenset({"view", "reveal"})
EDIT = frozenset({"view", "add", "change"})
MANAGE = frozenset({"view", "add", "change", "delete"})

CASE_WORK = frozenset({"view", "add", "change", "reveal"})
CASE_REPORT = frozenset({"view", "add", "change"})
CASE_REFERENCE = {"cases.category": VIEW, "cases.deadlinerule": VIEW, "cases.calendarday": VIEW}

REGISTRY_MODELS = ("registry.person", "registry.residence", "registry.persontag", "registry.partymember")
REGISTRY_KEEP = {label: CASE_WORK for label in REGISTRY_MODELS}  # view add change reveal
REGISTRY_EDIT = {label: EDIT for label in REGISTRY_MODELS}
REGISTRY_VIEW = {label: VIEW for label in REGISTRY_MODELS}
ORGANISATIONS_EDIT = {"registry.orgcontact": MANAGE | {"reveal"}, "registry.cobuildingagreement": MANAGE}
ORGANISATIONS_VIEW = {"registry.orgcontact": VIEW, "registry.cobuildingagreement": VIEW}
IMPORTS = {"registry.importrun": frozenset({"view", "add"})}
# The 12345 hotline import (the subdistrict desk only, as cases.hotline.check_actor says): its background jobs.
HOTLINE_IMPORTS = {
    "cases.hotlineimport": frozenset({"view", "add"}),
    "cases.hotlinemapping": frozenset({"view", "add", "change"}),  # the desk's last column mapping
}

# Visits: staff run campaigns and care plans; grid workers visit and record.
VISITS_RUN = {
    "visits.campaign": MANAGE,
    "visits.campaigntarget": EDIT,
    "visits.careplan": MANAGE,
    "visits.visit": EDIT,
}
VISITS_DO = {
    "visits.campaign": VIEW,
    "visits.campaigntarget": VIEW,
    "visits.careplan": EDIT,
    "visits.visit": EDIT,
}
VISITS_VIEW = {label: VIEW for label in VISITS_DO}

# Inspections (安全隐患排查): the subdistrict keeps the checklists; the subdistrict and the community plan rounds;
# grid staff and building heads do rounds and follow hazards up (services check "plan here" on the plan's own area).
INSPECTIONS_SUBDISTRICT = {
    "inspections.checklist": MANAGE,
    "inspections.checklistitem": MANAGE,
    "inspections.site": MANAGE,
    "inspections.plan": MANAGE,
    "inspections.round": EDIT,
    "inspections.roundphoto": VIEW,
    "inspections.hazard": EDIT,
    "inspections.hazardcheck": EDIT,
}
INSPECTIONS_COMMUNITY = {
    **INSPECTIONS_SUBDISTRICT,
    "inspections.checklist": VIEW,
    "inspections.checklistitem": VIEW,
    "inspections.site": EDIT,
}
INSPECTIONS_DO = {
    "inspections.checklist": VIEW,
    "inspections.checklistitem": VIEW,
    "inspections.site": VIEW,
    "inspections.plan": VIEW,
    "inspections.round": VIEW | {"change"},
    "inspections.roundphoto": EDIT,
    "inspections.hazard": EDIT,
    "inspections.hazardcheck": EDIT,
}

# Notices: staff send and see who has not read; grid workers confirm reading in person.
NOTICES_SEND = {"notices.notice": EDIT, "notices.noticesender": VIEW, "notices.noticedelivery": VIEW | {"change"}}
NOTICES_CONFIRM = {"notices.notice": VIEW, "notices.noticesender": VIEW, "notices.noticedelivery": VIEW | {"change"}}
NOTICES_VIEW = {"notices.notice": VIEW, "notices.noticesender": VIEW, "notices.noticedelivery": VIEW}
# Service posts (岗位认领, 双报到): staff publish posts on their ground, confirm the service; a reported-in party member
# (a resident's account linked to their registry person) sees the posts of their community and claims one; their
# own claims and service through the owner rule.
SERVICE_RUN = {
    "service.postkind": VIEW,
    "service.post": MANAGE,
    "service.personaccount": MANAGE,
    "service.claim": EDIT,
    "service.service": EDIT,
    # Volunteers (志愿者): staff keep the register and the teams, organise activities, tick attendees, confirm hours
    # and record the people served. A volunteer's own record and sign-ups are theirs through the owner rule.
    "service.volunteerteam": MANAGE,
    "service.volunteer": EDIT,
    "service.activity": MANAGE,
    "service.signup": EDIT,
    "service.personserved": EDIT,
}
SERVICE_VIEW = {label: VIEW for label in SERVICE_RUN}
SERVICE_CLAIM = {
    "service.postkind": VIEW,
    "service.post": VIEW,
    "service.volunteerteam": VIEW,
    "service.activity": VIEW,
}
SERVICE_UNIT = {
    **SERVICE_CLAIM,
    "service.post": MANAGE,
    "service.claim": EDIT,
    "service.service": EDIT,
    # A unit's own volunteer team and its activities (through its body): it organises and confirms hours.
    "service.volunteerteam": MANAGE,
    "service.volunteer": VIEW,
    "service.activity": MANAGE,
    "service.signup": EDIT,
    "service.personserved": VIEW,
}
SERVICE_DESK = {**SERVICE_RUN, "service.postkind": MANAGE}  # the kinds table is the subdistrict's
# Recognition (评选): the subdistrict's and communities' staff run campaigns (criteria, panel, candidates, decision);
# grid staff, building heads and residents see the campaigns over their ground and nominate; voting is public (no
# right needed: the services check the campaign); one's own nominations, votes and reviews through the owner rule.
RECOGNITION_RUN = {
    "recognition.campaign": MANAGE,
    "recognition.panelmember": MANAGE,
    "recognition.nomination": EDIT,
    "recognition.vote": VIEW,
    "recognition.review": VIEW,
}
RECOGNITION_NOMINATE = {"recognition.campaign": VIEW, "recognition.nomination": frozenset({"view", "add"})}
# Messaging: one's own inbox is everyone's (view through the owner rule, nothing to grant); the subdistrict desk
# sees the sends about its ground and sends a failed one again.
# It also sets the subdistrict's default channels per role and its bodies' WeCom duty groups. One's own preferences
# are everyone's through the owner rule.
MESSAGING_DESK = {
    "messaging.delivery": VIEW | {"change"},
    "messaging.roledefault": EDIT,
    "messaging.dutygroup": MANAGE,
}
# KPIs: the daily figures of a place, and its monthly reports (generated on demand by staff).
ROLLUPS = {
    "kpis.caserollup": VIEW,
    "kpis.monthrollup": VIEW,
    "kpis.monthclassrollup": VIEW,
    "kpis.cyclehistogram": VIEW,
    "kpis.rollupstate": VIEW,
}
KPIS_REPORT = {**ROLLUPS, "kpis.monthlyreport": EDIT}
KPIS_VIEW = {**ROLLUPS, "kpis.monthlyreport": VIEW}

# Participation (三张清单): staff keep the needs list, publish resources for units, confirm matches and projects
# completion; grid workers list needs; co-building units publish their resources, claim needs (a match they add)
# and report progress on their projects (their rows through their body; the needs of their ground to take on).
NEED_CATEGORY = {"participation.needcategory": VIEW}
PARTICIPATION_RUN = {
    **NEED_CATEGORY,
    "participation.need": MANAGE,
    "participation.resource": MANAGE | {"reveal"},
    "participation.match": EDIT,
    "participation.project": EDIT,
    "participation.milestone": MANAGE,
    "participation.progressreport": EDIT,
    "participation.wish": EDIT | {"reveal"},
}
PARTICIPATION_LIST = {
    **NEED_CATEGORY,
    "participation.need": EDIT,
    "participation.resource": VIEW,
    "participation.match": VIEW,
    "participation.project": VIEW,
    "participation.milestone": VIEW,
    "participation.progressreport": VIEW,
    # 微心愿: grid workers record a resident's wish (add), confirm it for them (change) and see who it is (reveal).
    "participation.wish": EDIT | {"reveal"},
}
PARTICIPATION_VIEW = {label: VIEW for label in PARTICIPATION_LIST}
PARTICIPATION_UNIT = {
    **NEED_CATEGORY,
    "participation.need": VIEW,
    "participation.resource": MANAGE | {"reveal"},
    "participation.match": VIEW | {"add"},
    "participation.project": VIEW | {"change"},
    "participation.milestone": EDIT,
    "participation.progressreport": VIEW | {"add"},
    "participation.wish": VIEW | {"change"},  # claim, give up, fulfil (never who the wisher is)
}
# Disputes (矛盾纠纷调解): the ground's staff register and mediate on site, mediators at the station, department
# handlers (派出所, 司法所, the court) what is referred to their body. Which rows each reaches is the disputes'
# scope rule (disputes.models.DisputeRule): parties and agreements only in the handling circle, session notes only
# for the assigned mediators and the station.
DISPUTE_REFERENCE = {"disputes.disputekind": VIEW, "disputes.laddertier": VIEW}
DISPUTES_STATION = {
    **DISPUTE_REFERENCE,
    "disputes.laddertier": MANAGE,
    "disputes.dispute": CASE_WORK,
    "disputes.party": CASE_WORK,
    "disputes.session": EDIT,
    "disputes.sessionnote": EDIT,
    "disputes.agreement": EDIT,
    "disputes.followup": EDIT,
    "disputes.escalation": VIEW,
    "disputes.disputeevent": VIEW,
    "disputes.disputemediator": MANAGE,
}
DISPUTES_GROUND = {  # on site: the grid and the community (no private notes)
    **DISPUTE_REFERENCE,
    "disputes.dispute": CASE_WORK,
    "disputes.party": CASE_WORK,
    "disputes.session": EDIT,
    "disputes.agreement": EDIT,
    "disputes.followup": EDIT,
    "disputes.escalation": VIEW,
    "disputes.disputeevent": VIEW,
    "disputes.disputemediator": VIEW,
}
DISPUTES_MEDIATE = {**DISPUTES_GROUND, "disputes.sessionnote": EDIT}
# Police notices (警情通报): a body sends them down (the police station, a co-building unit's report); the grid and
# community of the place receive, visit and answer; the subdistrict watches.
NOTICES_FROM_POLICE = {"disputes.policenotice": EDIT}
NOTICES_TO_GRID = {"disputes.policenotice": VIEW | {"change", "reveal"}}

# Meetings (议事): the ground's staff plan meetings, build agendas, tick attendance, record minutes and decisions
# and turn them into work; grid workers propose topics (their own or a resident's), support them and tick attendance;
# residents and building heads see the meetings of where they live, propose and support topics, and sign in (add).
ADD = frozenset({"add"})
MEETINGS_RUN = {
    "meetings.meetingkind": VIEW,
    "meetings.series": MANAGE,
    "meetings.rotamember": MANAGE,
    "meetings.meeting": MANAGE,
    "meetings.topic": EDIT,
    "meetings.support": VIEW,
    "meetings.agendaitem": MANAGE,
    "meetings.attendance": EDIT,
    "meetings.decision": EDIT,
}
MEETINGS_DESK = {**MEETINGS_RUN, "meetings.meetingkind": MANAGE}  # the kinds table is the subdistrict's
MEETINGS_GRID = {
    "meetings.meetingkind": VIEW,
    "meetings.series": VIEW,
    "meetings.rotamember": VIEW,
    "meetings.meeting": VIEW,
    "meetings.topic": VIEW | ADD,
    "meetings.support": VIEW | ADD,
    "meetings.agendaitem": VIEW,
    "meetings.attendance": EDIT,
    "meetings.decision": VIEW,
}
MEETINGS_RESIDENT = {
    "meetings.meetingkind": VIEW,
    "meetings.meeting": VIEW,
    "meetings.topic": VIEW | ADD,
    "meetings.support": ADD,
    "meetings.agendaitem": VIEW,
    "meetings.attendance": ADD,
    "meetings.decision": VIEW,
}

POLICY: dict[str, dict[str, frozenset[str]]] = {
    Role.SUBDISTRICT_OPERATOR: {
        **RECOGNITION_RUN,
        **MEETINGS_DESK,
        **SERVICE_DESK,
        **NOTICES_TO_GRID,
        **DISPUTES_STATION,
        **CASE_REFERENCE,
        **KPIS_REPORT,
        **REGISTRY_KEEP,
        **ORGANISATIONS_EDIT,
        **IMPORTS,
        **VISITS_RUN,
        **NOTICES_SEND,
        **HOTLINE_IMPORTS,
        **INSPECTIONS_SUBDISTRICT,
        **MESSAGING_DESK,
        **PARTICIPATION_RUN,
        "cases.case": CASE_WORK,
        "cases.caseevent": VIEW,
        "cases.attachment": VIEW,
        "triage.modelversion": EDIT,  # learned triage: the desk trains and rolls back (triage.services)
        "triage.bodysuccessor": MANAGE,
        "triage.autodispatch": EDIT,  # the subdistrict's switch for the model's own dispatches
        "triage.casesuggestion": VIEW,
        "triage.feedback": VIEW,
        "territory.node": EDIT,
        "territory.body": EDIT,
        "territory.cojurisdiction": MANAGE,
        "territory.partyorg": MANAGE,
        "accounts.user": VIEW_REVEAL | {"add", "change"},
        "accounts.roleassignment": MANAGE,
        "core.auditlog": VIEW,
    },
    Role.COMMUNITY_STAFF: {
        **RECOGNITION_RUN,
        **MEETINGS_RUN,
        **SERVICE_RUN,
        **NOTICES_TO_GRID,
        **DISPUTES_GROUND,
        **CASE_REFERENCE,
        **KPIS_REPORT,
        **REGISTRY_KEEP,
        **ORGANISATIONS_EDIT,
        **IMPORTS,
        **VISITS_RUN,
        **NOTICES_SEND,
        **INSPECTIONS_COMMUNITY,
        **PARTICIPATION_RUN,
        "cases.case": CASE_WORK,
        "cases.caseevent": VIEW,
        "triage.casesuggestion": VIEW,  # the intake desk's suggestions
        "cases.attachment": VIEW,
        "territory.node": EDIT,
        "territory.body": VIEW,
        "territory.cojurisdiction": VIEW,
        "territory.partyorg": EDIT,
        "accounts.user": VIEW_REVEAL,
        "accounts.roleassignment": VIEW,
        "core.auditlog": VIEW,
    },
    Role.GRID_LEADER: {
        **RECOGNITION_NOMINATE,
        **MEETINGS_RUN,
        **SERVICE_RUN,
        **NOTICES_TO_GRID,
        **DISPUTES_GROUND,
        **CASE_REFERENCE,
        **KPIS_VIEW,
        **REGISTRY_KEEP,
        **ORGANISATIONS_VIEW,
        **VISITS_RUN,
        **NOTICES_SEND,
        **INSPECTIONS_DO,
        "inspections.site": EDIT,
        **PARTICIPATION_LIST,
        "cases.case": CASE_WORK,
        "cases.caseevent": VIEW,
        "triage.casesuggestion": VIEW,  # the intake desk's suggestions
        "cases.attachment": VIEW,
        "territory.node": VIEW | {"change"},
        "territory.body": VIEW,
        "territory.cojurisdiction": VIEW,
        "territory.partyorg": VIEW,
        "accounts.user": VIEW_REVEAL,
        "accounts.roleassignment": VIEW,
    },
    Role.GRID_WORKER: {
        **RECOGNITION_NOMINATE,
        **MEETINGS_GRID,
        **SERVICE_VIEW,
        **NOTICES_TO_GRID,
        **DISPUTES_GROUND,
        **CASE_REFERENCE,
        **KPIS_VIEW,
        **REGISTRY_EDIT,
        **ORGANISATIONS_VIEW,
        **VISITS_DO,
        **NOTICES_CONFIRM,
        **INSPECTIONS_DO,
        **PARTICIPATION_LIST,
        "cases.case": CASE_WORK,
        "cases.caseevent": VIEW,
        "cases.attachment": VIEW,
        "territory.node": VIEW,
        "territory.body": VIEW,
        "territory.cojurisdiction": VIEW,
        "territory.partyorg": VIEW,
        "accounts.user": VIEW,
        "accounts.roleassignment": VIEW,
    },
    Role.BUILDING_HEAD: {
        **RECOGNITION_NOMINATE,
        **MEETINGS_RESIDENT,
        **CASE_REFERENCE,
        **REGISTRY_VIEW,
        **VISITS_VIEW,
        **NOTICES_CONFIRM,
        **INSPECTIONS_DO,
        **PARTICIPATION_VIEW,
        "cases.case": CASE_REPORT,
        "cases.caseevent": VIEW,
        "cases.attachment": VIEW,
        "territory.node": VIEW,
        "territory.body": VIEW,
        "territory.partyorg": VIEW,
    },
    Role.MEDIATOR: {  # the subdistrict's places read-only, and the cases passed to its team (PASSED_ONLY)
        **DISPUTES_MEDIATE,
        **CASE_REFERENCE,
        "cases.case": CASE_REPORT,
        "cases.caseevent": VIEW,
        "cases.attachment": VIEW,
        "territory.node": VIEW,
        "territory.body": VIEW,
        "territory.partyorg": VIEW,
    },
    Role.DEPARTMENT_HANDLER: {
        **NOTICES_FROM_POLICE,
        **DISPUTES_MEDIATE,
        **CASE_REFERENCE,
        "cases.case": CASE_REPORT,
        "cases.caseevent": VIEW,
        "cases.attachment": VIEW,
        "territory.node": VIEW,
        "territory.body": VIEW,
    },
    Role.CO_BUILDING_UNIT: {
        **SERVICE_UNIT,
        **NOTICES_FROM_POLICE,
        **CASE_REFERENCE,
        **ORGANISATIONS_VIEW,
        **PARTICIPATION_UNIT,
        "cases.case": VIEW,
        "cases.caseevent": VIEW,
        "cases.attachment": VIEW,
        "territory.body": VIEW,
    },
    Role.RESIDENT: {**CASE_REFERENCE, **SERVICE_CLAIM, **RECOGNITION_NOMINATE, **MEETINGS_RESIDENT},
    Role.ADMIN: {},  # admins are handled as "everything" before the table is read
}


# The case models whose rows a body's role reaches only through its body: the case dispatched to it (its handler
# body), that case's timeline and photos. Reporting a new case ("add") stays possible on the role's ground.
CASE_MODELS = frozenset({"cases.case", "cases.caseevent", "cases.attachment"})
# The same for disputes (those referred to the body, or whose station it is) and the police notices a body sent.
DISPUTE_MODELS = frozenset(
    {
        "disputes.dispute",
        "disputes.party",
        "disputes.session",
        "disputes.sessionnote",
        "disputes.agreement",
        "disputes.followup",
        "disputes.escalation",
        "disputes.disputeevent",
        "disputes.disputemediator",
        "disputes.policenotice",
    }
)
PASSED_ONLY = frozenset({Role.MEDIATOR, Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT})


def allowed_actions(role: str, model_label: str) -> frozenset[str]:
    return POLICY.get(role, {}).get(model_label, frozenset())


def passed_only(role: str, model_label: str, action: str) -> bool:
    """Does this role reach rows of this model only through its bodies (the cases passed to them)?"""
    return role in PASSED_ONLY and (model_label in CASE_MODELS or model_label in DISPUTE_MODELS) and action != "add"
