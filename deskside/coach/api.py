"""The plain-language coach over the API: check a reply before it is sent.

Any signed-in person may call it, and so may a read-only token: it reads nothing from the
desk and changes nothing, so although it is a POST (the text can be long) it is treated
as a read.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from pydantic import ConfigDict

from deskside.accounts.models import User
from deskside.accounts.services import ApiTokenRejected, api_token_check
from deskside.api import auth as api_auth
from deskside.api.errors import ApiError, not_authenticated
from deskside.coach.analysis import Issue, Report
from deskside.coach.services import coach_analyze

MAX_TEXT_CHARS = 20_000
MAX_CONTEXT_CHARS = 100_000


class TokenAuth(api_auth.TokenAuth):
    """The API's token check, letting a read-only token through on this POST.

    Named like the class it extends so the OpenAPI document keeps one bearer scheme.
    """

    def authenticate(self, request: HttpRequest, token: str) -> User:
        try:
            found = api_token_check(raw_token=token.strip())
        except ApiTokenRejected as exc:
            raise not_authenticated(exc.message) from None
        # The same per-token rate limit as every other endpoint.
        api_auth._check_rate(found)
        request.user = found.user
        return found.user


router = Router(tags=["coach"], auth=[TokenAuth(), api_auth.SessionAuth()])


class AnalyzeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description=f"The reply to check, at most {MAX_TEXT_CHARS:,} characters.")
    known_terms: list[str] = Field(
        default_factory=list,
        max_length=500,
        description="Terms the reader already knows; they are not pointed out.",
    )
    context: str = Field(
        "",
        description=(
            "The earlier conversation as the reader has seen it; terms used there count as "
            f"known. At most {MAX_CONTEXT_CHARS:,} characters."
        ),
    )
    reader_name: str = Field(
        "", max_length=200, description="The reader's name, used in the messages."
    )


class IssueOut(Schema):
    kind: str = Field(
        description="jargon, acronym, hard_word, condescending, long_sentence or readability."
    )
    start: int = Field(description="Offset of the first character in text.")
    end: int = Field(description="Offset just after the last character (exclusive).")
    text: str
    severity: str = Field(description="info or warning.")
    message: str
    suggestions: list[str]
    explanation: str
    term_id: str | None = Field(description="The dictionary term's key, if any.")


class AnalyzeOut(Schema):
    issues: list[IssueOut]
    grade: float | None = Field(description="School grade the text reads like, if long enough.")
    reading_ease: float | None
    words: int
    sentences: int
    summary: str = Field(description="A one-line meter, such as 'Reads like grade 9'.")


def _too_long(field: str, limit: int, sent: int) -> ApiError:
    message = _(
        "The %(field)s is too long to check: %(sent)s characters, and the most is "
        "%(limit)s. Check it in parts."
    ) % {"field": field, "sent": f"{sent:,}", "limit": f"{limit:,}"}
    return ApiError(
        400,
        "too_long",
        message,
        {"fields": {field: [{"code": "string_too_long", "message": message}]}},
    )


def _issue_out(issue: Issue) -> IssueOut:
    return IssueOut(
        kind=issue.kind,
        start=issue.start,
        end=issue.end,
        text=issue.text,
        severity=issue.severity,
        message=issue.message,
        suggestions=list(issue.suggestions),
        explanation=issue.explanation,
        term_id=issue.term_id,
    )


def report_out(report: Report) -> AnalyzeOut:
    return AnalyzeOut(
        issues=[_issue_out(issue) for issue in report.issues],
        grade=report.grade,
        reading_ease=report.reading_ease,
        words=report.words,
        sentences=report.sentences,
        summary=report.summary(),
    )


@router.post("/coach/analyze", response=AnalyzeOut, summary="Check a reply for plain language")
def coach_analyze_endpoint(request: HttpRequest, payload: AnalyzeIn) -> AnalyzeOut:
    """Point out jargon, unexplained short forms, hard words and long sentences."""
    api_auth.caller(request)
    if len(payload.text) > MAX_TEXT_CHARS:
        raise _too_long("text", MAX_TEXT_CHARS, len(payload.text))
    if len(payload.context) > MAX_CONTEXT_CHARS:
        raise _too_long("context", MAX_CONTEXT_CHARS, len(payload.context))
    report = coach_analyze(
        payload.text,
        known_terms=[term for term in payload.known_terms if term.strip()],
        context=payload.context,
        reader_name=payload.reader_name,
    )
    return report_out(report)
