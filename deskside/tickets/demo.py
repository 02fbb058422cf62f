"""A few hundred realistic tickets with conversations, across channels and statuses."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F

from deskside.accounts.models import Role, Team, User
from deskside.demo import DemoContext
from deskside.mail.tasks import mail_muted
from deskside.tickets import services
from deskside.tickets.models import Category, Channel, Message, Status, StatusKind, Ticket

TICKETS = 300
# Every timestamp moves back by the same age, so each ticket's story keeps its order.
SHIFTED = (
    "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at",
    "last_requester_activity_at",
)  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    category: str
    subject: str
    description: str
    reply: str
    resolution: str
    priority: int = 3


SCENARIOS = [
    Scenario("Email", "Outlook keeps asking for my password",
             "Since this morning Outlook asks for my password every few minutes. I type it and it comes back.",
             "Thanks for letting us know. Could you tell me if this happens on your phone too?",
             "Your saved password was out of date after the password change last week. We removed it, and Outlook now signs in by itself. Next time you change your password, restart Outlook straight after."),
    Scenario("Email", "Can't send email to a customer",
             "Mail to one customer bounces back with a long error about 'relay'.",
             "Could you forward us the bounce message, exactly as you received it?",
             "The customer's address had a typing mistake in your contacts. We corrected it. If a message bounces again, forward us the bounce and we will read it for you.", 2),
    Scenario("Accounts and passwords", "Locked out of my account",
             "I typed the wrong password too many times and now I can't sign in at all.",
             "We're on it. Are you at your desk so we can call you?",
             "Your account was locked after five wrong tries. We unlocked it and you chose a new password. To avoid this, use the 'Forgot password' link after two wrong tries.", 2),
    Scenario("Accounts and passwords", "New starter needs access on Monday",
             "Priya Shah joins the Finance team on Monday and needs a laptop, email and the finance system.",
             "Thanks for the notice. Which finance system roles should Priya have?",
             "Priya's account, mailbox and finance access are ready, and her laptop is set up at her desk. For future starters, the new starter form tells us everything we need in one go."),
    Scenario("Printing", "Printer on floor 3 jams on every page",
             "The big printer by the kitchen jams on every page since yesterday.",
             "Sorry about that. Someone will be with the printer within the hour.",
             "A torn label was stuck inside the paper tray. We removed it. Please only use plain paper in tray 2; labels go in the side tray."),
    Scenario("Printing", "Can't scan to email",
             "The scanner says 'unable to connect to server' when I scan to my email.",
             "Does scanning to a USB stick still work?",
             "The scanner's mail settings pointed at an old server. We updated them and scanning to email works again. If it stops, tell us the exact message on the screen."),
    Scenario("Hardware", "Laptop very slow since the update",
             "My laptop takes ten minutes to start and everything is slow since last week's update.",
             "Could you leave it switched on tonight so we can look at it remotely?",
             "The update was stuck halfway and kept retrying in the background. We finished it and the laptop starts in under a minute now. Restart once a week so updates can finish."),
    Scenario("Hardware", "Second screen stays black",
             "My second monitor stays black when I plug my laptop into the dock.",
             "Does the screen show anything when you press its menu button?",
             "The dock needed a small software update. We installed it and both screens work. If it happens again, unplug the dock's power for ten seconds first."),
    Scenario("Network/VPN", "VPN disconnects every few minutes at home",
             "Working from home, the VPN drops every five minutes and I lose my work in the finance system.",
             "Are you on Wi-Fi or a cable at home?",
             "Your home router put the laptop to sleep on Wi-Fi to save power. We changed a laptop setting so it stays connected. If it drops again, try a cable and tell us.", 2),
    Scenario("Network/VPN", "No Wi-Fi in meeting room 2",
             "Nobody can connect to Wi-Fi in meeting room 2. We have a client meeting at 2pm.",
             "We'll look right away, given the meeting.",
             "A Wi-Fi access point in the ceiling had lost power. We reconnected it. Report dead spots as soon as you see them so we can fix them before meetings.", 1),
    Scenario("Software", "Please install a PDF editor",
             "I need to edit PDF forms for suppliers. Can I have a PDF editor?",
             "Sure. Do you need to sign documents too, or only fill in forms?",
             "We installed the company's PDF editor from the Software Centre. You can install approved programs yourself there next time, without waiting for us.", 4),
    Scenario("Software", "Finance system crashes when exporting",
             "The finance system closes every time I export the monthly report to Excel.",
             "Which month are you exporting, and roughly how many lines?",
             "The export hit a limit with very large months. We applied the supplier's fix. Until everyone has it, export one week at a time if it happens again.", 2),
    Scenario("Phones", "Desk phone shows 'no service'",
             "My desk phone says 'no service' and I can't make calls.",
             "Is the cable still plugged into the wall socket and the phone?",
             "The phone's cable had come loose from the wall when the desk was moved. We plugged it back in. Check both ends of the cable first if it happens again."),
    Scenario("Phones", "Set up voicemail on my mobile",
             "I have a new company mobile and voicemail isn't set up.",
             "Happy to help. Are you free for five minutes now?",
             "We set up your voicemail greeting and PIN together on the call. Dial 1571 to listen to messages.", 4),
    Scenario("Other", "Suspicious email asking to pay an invoice",
             "I got an email that looks like it's from our CEO asking me to pay an urgent invoice today.",
             "Thank you for checking with us first. Please don't pay it or reply to it.",
             "The email came from an outside address pretending to be our CEO. We blocked the sender and warned the finance team. Always check payment requests by phoning the person on a number you already know.", 1),
    Scenario("Other", "Moving desks next week",
             "Our team moves to the second floor next Tuesday. What do we need to do?",
             "Thanks for the warning. How many people and desks are moving?",
             "We moved the phones and docks with the team and tested every desk. Tell us about moves a week ahead, like you did, and nothing is lost on the day.", 4),
]  # fmt: skip

CHANNEL_WEIGHTS = [(Channel.EMAIL, 40), (Channel.PORTAL, 30), (Channel.PHONE, 25), (Channel.API, 5)]


def populate(ctx: DemoContext) -> None:
    """Create the demo tickets, once: a desk that already has tickets is left alone."""
    if Ticket.objects.exists():
        return
    # Demo people have made-up addresses; mailing them hundreds of notices helps nobody.
    with mail_muted():
        _populate(ctx)


def _populate(ctx: DemoContext) -> None:
    rng = random.Random(1042)  # noqa: S311  (demo data, reproducible on purpose)
    requesters = list(User.objects.filter(role=Role.REQUESTER, is_active=True))
    teams = {team.name: team for team in Team.objects.prefetch_related("members")}
    desk = teams.get("Service Desk")
    categories = {category.name: category for category in Category.objects.all()}
    if not requesters or desk is None:
        return
    agents = list(desk.members.filter(role__in=[Role.AGENT, Role.TEAM_LEAD]))
    waiting = Status.objects.get(kind=StatusKind.WAITING_REQUESTER, is_default_for_kind=True)
    channels, weights = zip(*CHANNEL_WEIGHTS, strict=True)
    for index in range(TICKETS):
        scenario = rng.choice(SCENARIOS)
        requester = rng.choice(requesters)
        agent = rng.choice(agents)
        channel = rng.choices(channels, weights)[0]
        ticket = services.ticket_create(
            actor=agent if channel == Channel.PHONE else requester,
            requester=requester,
            subject=scenario.subject,
            body=scenario.description,
            channel=channel,
            category=categories.get(scenario.category),
            team=desk,
            priority=scenario.priority,
        )
        # The newest tickets are still untouched; older ones have moved along their lifecycle.
        stage = rng.random() if index < TICKETS - 25 else 0.0
        if stage > 0.15:
            services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
            services.ticket_reply(ticket=ticket, actor=agent, body=scenario.reply)
        if 0.35 < stage <= 0.45:
            services.ticket_change_status(ticket=ticket, actor=agent, status=waiting)
        if stage > 0.45:
            services.ticket_resolve(
                ticket=ticket,
                actor=agent,
                note=scenario.resolution,
                first_contact=channel == Channel.PHONE and rng.random() < 0.6,
            )
        if stage > 0.75:
            services.ticket_confirm(ticket=ticket, actor=requester, fixed=True)
        # Spread the story over the last six weeks, oldest first, so queues look lived in.
        age = timedelta(minutes=int((TICKETS - index) * 200 + rng.randint(0, 120)))
        Ticket.objects.filter(pk=ticket.pk).update(**{name: F(name) - age for name in SHIFTED})
        Message.objects.filter(ticket=ticket).update(created_at=F("created_at") - age)
        ctx.created["tickets"] += 1
