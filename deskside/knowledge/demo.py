"""Demo help articles: the answers staff look for most, written in plain words.

Runs after the tickets app's demo (INSTALLED_APPS order), so it links each article to the
demo tickets it would have answered, and the console shows "helped N tickets". Articles
are found again by their address name, so running the demo twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from deskside.accounts.models import CONSOLE_ROLES, User
from deskside.demo import DemoContext
from deskside.knowledge import services
from deskside.knowledge.models import Article, ArticleCategory, Visibility
from deskside.tickets.models import Ticket

CATEGORIES = [
    ("Email and calendar", "Outlook, shared mailboxes and calendars."),
    ("Passwords and signing in", "Passwords, locked accounts and the sign-in code on your phone."),
    ("Working from home", "Reaching office systems from home or on the road."),
    ("Printing", "Printers, scanning and copying."),
    ("Files and shared drives", "Finding and sharing your team's files."),
    ("Meetings and Teams", "Calls, cameras, microphones and meeting rooms."),
    ("Staying safe online", "Spotting scams and keeping company information safe."),
    ("Getting started", "Your first days: laptop, accounts and where to find help."),
]


@dataclass(frozen=True)
class DemoArticle:
    slug: str
    category: str
    title: str
    summary: str
    body: str
    tags: tuple[str, ...]
    # Demo tickets whose subject this article answers; they are linked to it.
    answers: tuple[str, ...] = ()
    visibility: str = Visibility.PUBLIC
    # Days from today until the review date; negative means the review is overdue.
    review_in_days: int = 180


ARTICLES = [
    DemoArticle(
        "outlook-keeps-asking-for-my-password",
        "Email and calendar",
        "Outlook keeps asking for my password",
        "Usually an old saved password. Restart Outlook, then sign in once.",
        """If Outlook keeps asking for your password, it is usually holding on to an old one, often just after you changed your password.

1. Close Outlook completely. On Windows, check it has gone from the bar at the bottom of the screen.
2. Open Outlook again.
3. When it asks, type your **new** password once and tick **Remember my password**.

If it still asks every few minutes:

- Check you can sign in to [the web version of Outlook](https://outlook.office.com) with the same password. If you cannot, your password may have expired: see *Reset your password*.
- Restart your computer, then try again.

Still stuck? Ask IT for help and tell us when it started and whether your phone asks too.""",
        ("outlook", "email", "password"),
        answers=("Outlook keeps asking for my password",),
    ),
    DemoArticle(
        "connect-to-the-vpn-from-home",
        "Working from home",
        "Connect to the VPN from home",
        "The VPN is the secure link to the office. Here is how to connect, and what to do if it drops.",
        """The VPN is a secure link between your laptop and the office. You need it for the finance system and the shared drives when you are not in the office.

**To connect**

1. Make sure you are on the internet (open any website).
2. Click the small shield icon at the bottom right of the screen and choose **Connect**.
3. Approve the sign-in request on your phone.

The shield turns green when you are connected.

**If it keeps dropping**

- Move closer to your Wi-Fi router, or plug in a network cable if you have one.
- Restart your laptop and your home router.
- Hotel and café Wi-Fi sometimes block the VPN. Try your phone's hotspot instead.

If it still drops, ask IT for help and tell us roughly how often it happens.""",
        ("vpn", "home", "remote"),
        answers=("VPN disconnects every few minutes at home",),
    ),
    DemoArticle(
        "printer-says-offline",
        "Printing",
        "The printer says it is offline",
        "Three quick checks that fix most offline printers.",
        """If your computer says the printer is **offline**, try these in order:

1. Look at the printer. Is it switched on, and does its screen show a message, such as a paper jam or an empty tray? Fix that first.
2. On your computer, open **Settings**, then **Printers**, choose the printer and click **Open queue**. If there are old documents stuck there, cancel them all.
3. Restart your computer.

If you moved desks or floors, you may be trying to print to your old floor's printer. Choose the printer nearest to you: its name is on a label on the front.

If the printer itself shows an error you cannot clear, ask IT for help and tell us the printer's name and the message on its screen.""",
        ("printer", "offline", "printing"),
        answers=("Printer on floor 3 jams on every page", "Can't scan to email"),
    ),
    DemoArticle(
        "reset-your-password",
        "Passwords and signing in",
        "Reset your password",
        "Forgotten your password or locked out? Reset it yourself in two minutes.",
        """You can reset your password yourself, from any computer or phone.

1. Go to the sign-in page and click **Forgot my password**.
2. Type your work email address.
3. Approve the request on your phone, or type the code we text you.
4. Choose a new password: at least 12 characters. Three random words you can remember work well, for example *teapot river orange*.

**Locked out after too many tries?** Wait 15 minutes and the lock lifts by itself, or reset your password as above straight away.

**After you reset it**, sign in again on your phone's email app and restart Outlook, so they stop using the old password.

Never tell anyone your password, including IT. We will never ask for it.""",
        ("password", "locked out", "sign in"),
        answers=("Locked out of my account",),
    ),
    DemoArticle(
        "shared-drive-missing",
        "Files and shared drives",
        "My shared drive is missing",
        "Shared drives only appear when you are connected to the office network.",
        """Your team's shared drive (for example **S:** or **Finance**) only appears when your laptop can reach the office.

1. If you are working from home, connect to the VPN first. See *Connect to the VPN from home*.
2. Restart your laptop while connected, so it can set up the drives again.
3. Open **File Explorer** and look under **This PC**.

If the drive is still missing, you may not have access to it yet. Ask your manager to confirm which drives you need, then ask IT for help with the drive's name.""",
        ("shared drive", "files", "network drive"),
    ),
    DemoArticle(
        "teams-camera-not-working",
        "Meetings and Teams",
        "My camera does not work in Teams",
        "Check the camera is not covered, not used by another app, and chosen in Teams.",
        """If others cannot see you in a Teams meeting:

1. Check the camera is not covered. Many laptops have a small sliding cover above the screen.
2. Close other apps that may be using the camera, such as Zoom or the Camera app.
3. In Teams, click the three dots (**…**) next to your picture, choose **Settings**, then **Devices**, and pick the right camera. If you use a dock or a second screen, there may be two cameras.
4. If the camera light does not come on at all, restart your laptop.

Still nothing? Ask IT for help, and tell us whether the camera works in the Windows **Camera** app.""",
        ("teams", "camera", "meetings"),
        answers=("Second screen stays black",),
    ),
    DemoArticle(
        "how-to-spot-a-phishing-email",
        "Staying safe online",
        "Phishing: how to spot a fake email",
        "Fake emails try to rush you into clicking, paying or sharing your password. Here is how to spot them.",
        """*Phishing* means emails (or texts and calls) that pretend to be someone you trust, to get you to click a link, pay money or share your password.

**Warning signs**

- It is urgent or threatening: "pay today", "your account will be closed".
- It asks you to change bank details or pay a new account.
- The sender's address does not quite match the name, for example *accounts@examp1e-pay.com*.
- A link's address, shown when you rest the mouse on it, goes somewhere unexpected.
- It asks for your password. IT will never ask for it.

**What to do**

- Do not click, reply or open attachments.
- If it is about money, call the person on a number you already know, not one in the email.
- Report it with the **Report phishing** button in Outlook, or forward it to IT.

If you already clicked or typed your password, tell IT straight away. It is never a problem to ask: acting fast is what matters.""",
        ("phishing", "scam", "security", "email"),
        answers=("Suspicious email asking to pay an invoice",),
        review_in_days=-3,
    ),
    DemoArticle(
        "new-starter-laptop",
        "Getting started",
        "Your new laptop: the first day",
        "How to sign in for the first time, set up your phone for sign-in codes, and find help.",
        """Welcome! Your laptop is ready on your desk on your first morning.

1. Switch it on and sign in with the email address and temporary password your manager gave you.
2. Choose your own password when asked. See *Reset your password* for tips on a good one.
3. Set up sign-in approvals on your phone: install the **Authenticator** app and follow the steps on screen.
4. Open Outlook and Teams. They set themselves up the first time.

Your files are saved to **OneDrive**, so they are backed up and you can reach them from any company laptop.

If anything is missing (a program, a shared drive, access to a system), ask IT for help through the portal and say what you need it for.""",
        ("new starter", "laptop", "first day"),
        answers=("New starter needs access on Monday",),
        review_in_days=-10,
    ),
    DemoArticle(
        "runbook-unlock-account-and-reset-mfa",
        "Passwords and signing in",
        "Runbook: unlock an account and reset sign-in approvals",
        "For the service desk: verify the caller, then unlock and reset their approvals.",
        """For IT staff only.

1. **Verify the caller** before changing anything: call them back on the number in their profile, never on a number they give you now.
2. In the admin centre, find the account and clear **Sign-in blocked**.
3. If they have a new phone, remove their registered approval methods so they can set them up again at next sign-in.
4. Ask them to sign in while you are on the call, and check it works.
5. Note on the ticket how you verified them.

If the account was locked by many failed sign-ins from somewhere unexpected, do not unlock it: hand the ticket to the security team.""",
        ("runbook", "account", "mfa"),
        answers=("Locked out of my account",),
        visibility=Visibility.INTERNAL,
        review_in_days=-1,
    ),
]


def _owner(ctx: DemoContext) -> User | None:
    owner = ctx.people.get("agent")
    if owner is None:
        owner = User.objects.filter(role__in=CONSOLE_ROLES, is_active=True).order_by("pk").first()
    return owner


def populate(ctx: DemoContext) -> None:
    owner = _owner(ctx)
    categories = {}
    for position, (name, description) in enumerate(CATEGORIES):
        category, created = ArticleCategory.objects.get_or_create(
            name=name, defaults={"description": description, "position": position}
        )
        categories[name] = category
        ctx.created["article categories"] += int(created)
    today = timezone.localdate()
    for item in ARTICLES:
        article = Article.objects.filter(slug=item.slug).first()
        if article is None:
            article = services.article_create(
                actor=owner,
                title=item.title,
                summary=item.summary,
                body=item.body,
                category=categories[item.category],
                tags=item.tags,
                visibility=item.visibility,
                owner=owner,
                review_by=today + timedelta(days=item.review_in_days),
                slug=item.slug,
            )
            article = services.article_publish(article=article, actor=owner)
            ctx.created["help articles"] += 1
        _link_answered_tickets(ctx, article, item.answers, owner)


def _link_answered_tickets(
    ctx: DemoContext, article: Article, subjects: tuple[str, ...], owner: User | None
) -> None:
    if not subjects or owner is None:
        return
    tickets = (
        Ticket.objects.filter(subject__in=subjects, resolution_note__gt="")
        .exclude(article_links__article=article)
        .order_by("pk")
    )
    for ticket in tickets:
        try:
            services.ticket_article_link(ticket=ticket, article=article, actor=owner)
        except (Http404, PermissionDenied):
            continue  # a restricted team's ticket the demo agent may not touch
        ctx.created["tickets linked to articles"] += 1
