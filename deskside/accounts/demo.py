"""Demo people for 'deskside demo': a small company with an IT department.

Everyone works at the fictional company on example.com. Phone numbers come from the UK
ranges Ofcom keeps for drama (020 7946 0xxx, 0161 496 0xxx, 0131 496 0xxx), so they look
real but never ring anyone.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password

from deskside.accounts import services
from deskside.accounts.models import (
    Department,
    Location,
    Role,
    Team,
    TeamTier,
    TechnicalComfort,
    User,
)
from deskside.demo import DemoContext

DOMAIN = "example.com"
IT = "Information Technology"
LONDON, MANCHESTER, EDINBURGH, HOME = (
    "London head office",
    "Manchester office",
    "Edinburgh office",
    "Working from home",
)
LOCATIONS = {
    LONDON: "Floor 4, 1 Riverside Walk, London",
    MANCHESTER: "Unit 3, Mill Yard, Manchester",
    EDINBURGH: "5 Harbour Close, Edinburgh",
    HOME: "",
}
# The first digits of each location's drama-range numbers; home workers keep a London line.
PHONE_PREFIX = {
    LONDON: "+44 20 7946 0",
    MANCHESTER: "+44 161 496 0",
    EDINBURGH: "+44 131 496 0",
    HOME: "+44 20 7946 0",
}
DEPARTMENTS = [
    "Finance",
    "Human Resources",
    "Sales",
    "Operations",
    "Legal",
    "Marketing",
    "Executive office",
    IT,
]
SERVICE_DESK = "Service Desk"
TEAMS = {
    SERVICE_DESK: (
        TeamTier.SERVICE_DESK,
        "First line: answers calls, emails and portal requests, and resolves most of them "
        "on the first contact.",
    ),
    "Infrastructure": (
        TeamTier.SPECIALIST,
        "Networks, Wi-Fi, servers, printers and the phone system.",
    ),
    "Business Applications": (
        TeamTier.SPECIALIST,
        "The finance, HR and sales systems, and Microsoft 365.",
    ),
    "Security": (
        TeamTier.SPECIALIST,
        "Suspicious emails, access requests, lost devices and security incidents.",
    ),
}


@dataclass(frozen=True)
class Persona:
    """One demo person. ``key`` names them in DemoContext.people for later demo modules."""

    name: str
    job_title: str
    department: str
    location: str = LONDON
    role: str = Role.REQUESTER
    vip: bool = False
    technical: bool = False
    team: str | None = None
    leads_team: bool = False
    heads_department: bool = False
    key: str | None = None

    @property
    def email(self) -> str:
        # "Liam O'Connor" -> liam.oconnor@example.com, as a company directory would have it.
        plain = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode()
        local = ".".join("".join(ch for ch in word if ch.isalnum()) for word in plain.split())
        return f"{local.lower()}@{DOMAIN}"


def _it(
    name: str,
    job_title: str,
    role: str,
    *,
    team: str | None = None,
    leads_team: bool = False,
    heads_department: bool = False,
    location: str = LONDON,
    key: str | None = None,
) -> Persona:
    """Someone in the IT department; they are all comfortable with technical terms."""
    return Persona(
        name,
        job_title,
        IT,
        location,
        role=role,
        technical=True,
        team=team,
        leads_team=leads_team,
        heads_department=heads_department,
        key=key,
    )


# Short names keep the table below at one person per line.
A, L, M = Role.AGENT, Role.TEAM_LEAD, Role.IT_MANAGER
PEOPLE: list[Persona] = [
    # The IT department.
    _it("Sam Taylor", "IT systems administrator", Role.ADMIN, key="admin"),
    _it("Rachel Adams", "Head of IT Service", M, heads_department=True, key="it_manager"),
    _it(
        "Kwame Mensah",
        "Service desk team lead",
        L,
        team=SERVICE_DESK,
        leads_team=True,
        key="team_lead",
    ),
    _it("Emily Clarke", "Service desk analyst", A, team=SERVICE_DESK, key="agent"),
    _it("Josh Patel", "Service desk analyst", A, team=SERVICE_DESK),
    _it("Hannah Lewis", "Service desk analyst", A, team=SERVICE_DESK, location=MANCHESTER),
    _it("Oliver Brooks", "Service desk analyst", A, team=SERVICE_DESK, location=EDINBURGH),
    _it("Marek Kowalski", "Infrastructure team lead", L, team="Infrastructure", leads_team=True),
    _it("Aisha Rahman", "Network engineer", A, team="Infrastructure", key="other_agent"),
    _it("Liam O'Connor", "Systems engineer", A, team="Infrastructure", location=MANCHESTER),
    _it("Wei Chen", "Business applications lead", L, team="Business Applications", leads_team=True),
    _it("Fatima Hussein", "Applications analyst", A, team="Business Applications"),
    _it("George Evans", "ERP specialist", A, team="Business Applications", location=HOME),
    _it("Nadia Petrova", "Information security lead", L, team="Security", leads_team=True),
    _it("Ben Carter", "Security analyst", A, team="Security"),
    # The executive follows escalations and reports in the console.
    Persona(
        "Margaret Ellis",
        "Chief Executive",
        "Executive office",
        role=Role.EXECUTIVE,
        vip=True,
        heads_department=True,
        key="executive",
    ),
    # Requesters: the staff IT serves.
    Persona("Priya Shah", "Finance Director", "Finance", vip=True, heads_department=True),
    Persona("Mark Jennings", "Financial Controller", "Finance"),
    Persona("Laura Bennett", "Accounts Payable Clerk", "Finance", key="requester"),
    Persona("Samuel Osei", "Management Accountant", "Finance"),
    Persona("Rebecca Hall", "Payroll Officer", "Finance", MANCHESTER),
    Persona(
        "Arjun Mehta",
        "Financial Systems Analyst",
        "Finance",
        technical=True,
        key="technical_requester",
    ),
    Persona("Beatrice Ward", "Credit Controller", "Finance", MANCHESTER),
    Persona("Tom Whitaker", "HR Director", "Human Resources", vip=True, heads_department=True),
    Persona("Claire Dawson", "HR Business Partner", "Human Resources"),
    Persona("Nia Williams", "Recruitment Coordinator", "Human Resources", HOME),
    Persona("Patrick Byrne", "Learning and Development Manager", "Human Resources"),
    Persona("Zara Ahmed", "HR Administrator", "Human Resources", MANCHESTER),
    Persona("Grace Okafor", "Sales Director", "Sales", vip=True, heads_department=True),
    Persona("Ryan Mitchell", "Account Manager", "Sales", MANCHESTER, key="other_requester"),
    Persona("Chloe Harris", "Sales Executive", "Sales", HOME),
    Persona("Daniel Kim", "Sales Operations Analyst", "Sales", technical=True),
    Persona("Megan Roberts", "Business Development Manager", "Sales"),
    Persona("Luca Romano", "Key Account Manager", "Sales", EDINBURGH),
    Persona("Jade Thompson", "Sales Coordinator", "Sales"),
    Persona("Tariq Aziz", "Sales Engineer", "Sales", MANCHESTER, technical=True),
    Persona(
        "Stefan Novak",
        "Operations Director",
        "Operations",
        MANCHESTER,
        vip=True,
        heads_department=True,
    ),
    Persona("Amy Turner", "Facilities Manager", "Operations", MANCHESTER),
    Persona("Kieran Walsh", "Logistics Coordinator", "Operations", MANCHESTER),
    Persona("Olivia Green", "Office Manager", "Operations"),
    Persona("Ibrahim Yusuf", "Operations Analyst", "Operations", MANCHESTER, technical=True),
    Persona("Eleanor Price", "Procurement Officer", "Operations", MANCHESTER),
    Persona("Helen Fraser", "General Counsel", "Legal", vip=True, heads_department=True),
    Persona("James Whitfield", "Senior Solicitor", "Legal"),
    Persona("Anika Sharma", "Paralegal", "Legal"),
    Persona("Robert Lang", "Contracts Manager", "Legal"),
    Persona("Fiona Campbell", "Compliance Officer", "Legal", EDINBURGH),
    Persona("Sofia Marino", "Marketing Director", "Marketing", vip=True, heads_department=True),
    Persona("Ethan Hughes", "Content Manager", "Marketing", HOME),
    Persona("Maya Collins", "Digital Marketing Specialist", "Marketing", technical=True),
    Persona("Harry Foster", "Graphic Designer", "Marketing"),
    Persona("Isla MacDonald", "Events Coordinator", "Marketing", EDINBURGH),
    Persona("Noah Baker", "Marketing Technologist", "Marketing", technical=True),
    Persona("David Okoye", "Chief Financial Officer", "Executive office", vip=True, key="vip"),
    Persona("Catherine Moore", "Chief Operating Officer", "Executive office", vip=True),
    # The Chief Executive's assistant often calls on their behalf, so is treated the same.
    Persona(
        "Lucy Palmer", "Executive Assistant to the Chief Executive", "Executive office", vip=True
    ),
]


def _phone_numbers() -> dict[str, str]:
    """A different work number per person, numbered in list order within each range."""
    used: defaultdict[str, int] = defaultdict(int)
    numbers = {}
    for person in PEOPLE:
        prefix = PHONE_PREFIX[person.location]
        used[prefix] += 1
        numbers[person.email] = f"{prefix}{100 + used[prefix]}"
    return numbers


def populate(ctx: DemoContext) -> None:
    """Add the demo company's places, departments, people and teams, once."""
    validate_password(ctx.password)

    locations: dict[str, Location] = {}
    for name, address in LOCATIONS.items():
        # No service exists for these reference lists yet; they are plain rows.
        locations[name], created = Location.objects.get_or_create(
            name=name, defaults={"address": address}
        )
        ctx.created["locations"] += created
    departments: dict[str, Department] = {}
    for name in DEPARTMENTS:
        departments[name], created = Department.objects.get_or_create(name=name)
        ctx.created["departments"] += created

    phones = _phone_numbers()
    people: dict[str, User] = {}
    for persona in PEOPLE:
        user = User.objects.filter(email=persona.email).first()
        if user is None:
            user = services.person_create(
                email=persona.email,
                full_name=persona.name,
                role=persona.role,
                department=departments[persona.department],
                location=locations[persona.location],
                job_title=persona.job_title,
                is_vip=persona.vip,
                technical_comfort=(
                    TechnicalComfort.TECHNICAL if persona.technical else TechnicalComfort.STANDARD
                ),
                phones=[(phones[persona.email], "work")],
            )
            ctx.created["people"] += 1
        people[persona.email] = user
        if persona.key:
            ctx.people[persona.key] = user

    # Hashing one password sixty times at full strength takes half a minute; the demo
    # accounts share one password anyway, so they share one hash of it too.
    User.objects.filter(email__in=list(people)).update(password=make_password(ctx.password))

    for persona in PEOPLE:
        department = departments[persona.department]
        if persona.heads_department and department.head_id is None:
            department.head = people[persona.email]
            department.save(update_fields=["head"])

    for team_name, (tier, description) in TEAMS.items():
        crew = [p for p in PEOPLE if p.team == team_name]
        lead = next((people[p.email] for p in crew if p.leads_team), None)
        team = Team.objects.filter(name=team_name).first()
        if team is None:
            team = services.team_create(
                name=team_name, tier=tier, lead=lead, description=description
            )
            ctx.created["teams"] += 1
        elif team.lead_id is None and lead is not None:
            team.lead = lead
            team.save(update_fields=["lead"])
        for persona in crew:
            services.team_add_member(team=team, user=people[persona.email])

    def named(key: str) -> str:
        return ctx.people[key].email

    ctx.sign_ins += [
        ("Administrator", named("admin")),
        ("IT manager", named("it_manager")),
        (f"Team lead ({SERVICE_DESK})", named("team_lead")),
        (f"Agent ({SERVICE_DESK})", named("agent")),
        ("Requester (Finance)", named("requester")),
    ]
