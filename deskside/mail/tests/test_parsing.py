"""Parsing real-looking and hostile mail: every fixture, every charset mess, every XSS trick."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from deskside.mail.headers import decode_bytes, extract_message_id
from deskside.mail.html import sanitise_html
from deskside.mail.parsing import (
    ParsedMail,
    UnparseableMessage,
    header_summary,
    parse_message,
    trim_text,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parse(name: str) -> ParsedMail:
    return parse_message(load(name))


# --- Each fixture parses to what a person would read ------------------------------------


def test_plain_text() -> None:
    mail = parse("plain_text.eml")
    assert mail.from_address == "ada@example.com"  # lower-cased identity
    assert mail.from_name == "Ada Requester"
    assert mail.to == ["help@deskside.test"]
    assert mail.subject == "Printer on the 3rd floor is jammed"  # whitespace collapsed
    assert mail.message_id == "CAF=plain-0001@mail.example.com"
    assert mail.date == datetime(2025, 3, 4, 9, 12, 40, tzinfo=UTC)
    assert mail.text.startswith("Hi,\n\nThe printer next to the kitchen")
    assert "\r" not in mail.text
    assert mail.html == ""
    assert mail.attachments == []
    assert not mail.is_bounce
    assert mail.auto_submitted == ""


def test_multipart_alternative_prefers_text_and_keeps_clean_html() -> None:
    mail = parse("multipart_alternative.eml")
    assert "drops every 10 minutes \u2013 I have to sign in again" in mail.text
    assert "<b>10 minutes</b>" in mail.html
    assert "dir=" not in mail.html  # attributes outside the allow-list are dropped
    assert mail.cc == ["bob@example.com", "carol@example.com"]
    # Reply-To is parsed separately: it is a reply target, never the sender's identity.
    assert mail.reply_to == ["ada.home@example.org"]
    assert mail.from_address == "ada@example.com"


def test_html_only_gets_a_text_rendering() -> None:
    mail = parse("html_only_hostile.eml")
    assert mail.text == "Your mailbox is full.\n\nClick here to verify\n\nReal help page"
    assert "Secret title" not in mail.text
    assert "document.location" not in mail.text


def test_hostile_html_fixture_is_neutralised() -> None:
    html = parse("html_only_hostile.eml").html
    assert_harmless(html)
    assert "https://tracker.example.net" not in html
    assert "data:image" not in html
    assert "Password" not in html  # the whole form is gone, not just its tags
    assert "Secret title" not in html
    assert 'href="https://intranet.example.com/help"' in html
    assert "Your mailbox is <b>full</b>" in html


def test_attachments() -> None:
    mail = parse("attachments.eml")
    assert [(a.name, a.content_type) for a in mail.attachments] == [
        ("invoice-2025-03.pdf", "application/pdf"),
        ("screenshot.png", "image/png"),
    ]
    pdf, png = mail.attachments
    assert pdf.content.startswith(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3")
    assert pdf.content.endswith(b"%%EOF\n")
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert not pdf.is_inline
    assert mail.text.startswith("The expense system shows an error")


def test_inline_image_keeps_its_cid_link() -> None:
    mail = parse("inline_image_cid.eml")
    [image] = mail.attachments
    assert image.content_id == "image001.png@01DB8F00.12345670"
    assert image.is_inline
    assert image.content.startswith(b"\x89PNG")
    assert 'src="cid:image001.png@01DB8F00.12345670"' in mail.html
    assert mail.text.startswith("Excel shows this error:")


def test_forwarded_message_becomes_an_eml_attachment() -> None:
    mail = parse("forwarded_rfc822.eml")
    assert mail.text == "Can someone check the attached? It looks like fraud."
    [forwarded] = mail.attachments
    assert forwarded.name == "Suspicious payment request.eml"
    assert forwarded.content_type == "message/rfc822"
    inner = parse_message(forwarded.content)
    assert inner.from_address == "ceo@examp1e.com"
    assert inner.message_id == "inner-0006@examp1e.com"
    assert "Please wire 9,800 EUR" in inner.text
    # The forwarded mail's text stays in the attachment, not in the forwarding note.
    assert "wire" not in mail.text


def test_broken_mime_still_yields_text_and_what_it_can_of_the_attachment() -> None:
    mail = parse("broken_mime.eml")
    assert mail.text == "My laptop stopped charging after the update last night."
    [report] = mail.attachments
    assert report.name == "battery-report.html"
    assert report.content.startswith(b"<html><body>Battery report")
    assert "CloseBoundaryNotFoundDefect" in mail.defects


def test_wrong_charset_degrades_to_latin_1() -> None:
    mail = parse("wrong_charset.eml")
    assert mail.text == "Mon clavier ne répond plus depuis la mise à jour. Merci d'avance, Zoé"
    assert mail.subject == "Clavier cassé"  # raw 8-bit header bytes


def test_unknown_charset_is_read_as_utf8() -> None:
    mail = parse("unknown_charset.eml")
    assert mail.text == "The second monitor flickers \u2013 café lights too."
    assert mail.subject == "Monitor flickers"


def test_rfc2047_subject_and_from_name() -> None:
    mail = parse("rfc2047_headers.eml")
    assert mail.from_name == "José García"
    assert mail.from_address == "jose.garcia@example.com"
    # Two encoded words on folded lines join into one line.
    assert mail.subject == "Problème d'accès au dossier partagé \u2013 urgent"
    assert mail.text == "Bonjour, je n'arrive plus à ouvrir le dossier partagé « Finance »."


def test_rfc2231_filename_and_raw_utf8_header() -> None:
    mail = parse("rfc2231_filename.eml")
    [pdf] = mail.attachments
    assert pdf.name == "Zugangsantrag für Büro.pdf"  # continuation and percent-encoding
    assert pdf.content.startswith(b"%PDF")
    assert mail.from_name == "Jürgen Müller"


def test_outlook_reply_is_trimmed() -> None:
    mail = parse("reply_outlook.eml")
    assert mail.trimmed_text == "It works now, thank you!\n\nAda Requester\nFinance"
    assert "we replaced the pick-up roller" in mail.text  # the full text is kept
    assert mail.in_reply_to == ["ticket-1042-msg-2@deskside.test"]
    assert mail.references == [
        "CAF=plain-0001@mail.example.com",
        "ticket-1042-msg-2@deskside.test",
    ]


def test_gmail_reply_is_trimmed_of_wrapped_attribution_quote_and_signature() -> None:
    mail = parse("reply_gmail.eml")
    assert mail.trimmed_text == "Yes, it is the Sales team calendar."
    assert "> Hello Bob, which calendar do you mean?" in mail.text


def test_apple_mail_reply_is_trimmed() -> None:
    mail = parse("reply_apple_mail.eml")
    assert mail.trimmed_text == "The new charger works, thanks."
    assert mail.message_id == "6C1F3B2A-1D2E-4F5A-9B8C-7D6E5F4A3B2C@example.com"
    assert mail.references == [
        "broken-0007@mail.example.com",
        "ticket-1044-msg-3@deskside.test",
    ]


def test_auto_reply_flags() -> None:
    mail = parse("auto_reply.eml")
    assert mail.auto_submitted == "auto-replied"
    assert mail.precedence == "bulk"
    assert mail.auto_response_suppress == "All"
    assert mail.return_path == ""  # the null sender
    assert mail.in_reply_to == ["ticket-1045-msg-1@deskside.test"]


def test_bounce_is_recognised_with_its_recipients_and_original() -> None:
    mail = parse("bounce_dsn.eml")
    assert mail.is_bounce
    assert mail.from_address == "mailer-daemon@mx.deskside.test"
    [recipient] = mail.bounce_recipients
    assert recipient.address == "gone@example.com"
    assert recipient.status == "5.1.1"
    assert recipient.is_permanent_failure
    assert mail.bounced_message_id == "ticket-1046-msg-1@deskside.test"
    assert "could not\nbe delivered" in mail.text
    assert {a.name for a in mail.attachments} == {"delivery-status.txt", "attachment-2.txt"}


def test_mailing_list_flags() -> None:
    mail = parse("mailing_list.eml")
    assert mail.precedence == "list"
    assert mail.list_id == "IT news <it-news.lists.example.com>"
    assert not mail.is_bounce


def test_ordinary_mail_is_not_flagged() -> None:
    for name in ("plain_text.eml", "multipart_alternative.eml", "reply_gmail.eml"):
        mail = parse(name)
        assert (mail.auto_submitted, mail.precedence, mail.list_id) == ("", "", "")
        assert not mail.is_bounce


# --- Headers: encoded words, raw 8-bit bytes, addresses -----------------------------------


def test_encoded_display_name_with_a_comma_does_not_split_the_address() -> None:
    mail = parse_message(
        b"From: =?utf-8?q?Garc=C3=ADa=2C_Jos=C3=A9?= <Jose@Example.com>\r\n"
        # A literal comma inside an encoded word breaks RFC 2047, but clients send it.
        b"To: =?utf-8?q?Desk,_IT?= <help@deskside.test>, =?utf-8?b?RG9lLCBKb2hu?= <j@x.com>,\r\n"
        b' "Q, R" <q@r.com>, plain@x.com\r\n'
        b"Cc: =?utf-8?q?Caf=C3=A9_(IT)?= <cafe@x.com>\r\n\r\nbody"
    )
    assert (mail.from_name, mail.from_address) == ("García, José", "jose@example.com")
    assert mail.to == ["help@deskside.test", "j@x.com", "q@r.com", "plain@x.com"]
    assert mail.cc == ["cafe@x.com"]
    assert header_summary(b"From: =?utf-8?q?Doe=2C_J?= <dj@x.com>\n\n").from_name == "Doe, J"


def test_address_headers_groups_comments_and_junk() -> None:
    mail = parse_message(
        b"From: Ada (personal) <Ada@Example.com>\n"
        b"To: undisclosed-recipients:;\n"
        b'Cc: Team: one@x.com, "Smith (IT)" <two@x.com>;, three@x.com (comma, here)\n'
        b"Reply-To: a@b.com c@d.com\n\nbody"  # two addresses without a comma
    )
    assert (mail.from_name, mail.from_address) == ("Ada", "ada@example.com")
    assert mail.to == []
    assert mail.cc == ["one@x.com", "two@x.com", "three@x.com"]
    assert mail.reply_to == ["a@b.com"]
    quoted = parse_message(b'From: "Smith (IT)" <s@x.com>\n\nbody')
    assert quoted.from_name == "Smith (IT)"
    nameless = parse_message(b"From: Ada Requester\nSubject: no address\n\nbody")
    assert "@" not in nameless.from_address  # rejected later as having no sender


def test_raw_8bit_headers_are_decoded_with_fallbacks() -> None:
    mail = parse_message(
        b"From: J\xc3\xbcrgen M\xc3\xbcller <j@x.de>\r\n"
        b"To: Zo\xe9 Dupont <zoe@example.fr>, J\xc3\xbcrgen <j@x.de>\r\n"
        b"Subject: =?utf-8?q?Re:?= Caf\xc3\xa9 \xe2\x80\x93 ok\r\n\r\nbody"
    )
    assert mail.from_name == "Jürgen Müller"
    assert mail.to == ["zoe@example.fr", "j@x.de"]
    # Raw UTF-8 next to an encoded word: both decode.
    assert mail.subject == "Re: Café \u2013 ok"
    latin_1 = parse_message(b"From: Zo\xe9 Dupont <zoe@example.fr>\n\nbody")
    assert latin_1.from_name == "Zoé Dupont"  # not valid UTF-8: Windows-1252
    assert header_summary(b"Subject: Clavier cass\xe9\n\n").subject == "Clavier cassé"


def test_encoded_word_edge_cases() -> None:
    def subject(value: bytes) -> str:
        return parse_message(b"From: a@b.com\nSubject: " + value + b"\n\nbody").subject

    # A character split across two encoded words, and the folding between them.
    assert subject(b"=?utf-8?b?4oA=?=\n =?utf-8?b?kw==?= ok") == "\u2013 ok"
    assert subject(b"=?utf-8?q?a?= =?utf-8?q?b?= c =?iso-8859-1?q?=E9?=") == "ab c é"
    assert subject(b"=?x-unknown?q?caf=E9?=") == "café"  # unknown charset: fallbacks
    assert subject(b"=?utf-8?b?Y2Fm6Q==?=") == "café"  # declared UTF-8, really Latin-1
    assert subject(b"=?utf-8*en?q?lang?=") == "lang"  # RFC 2231 language tag
    assert subject(b"=?utf-8?q?ctrl=00=07?=x") == "ctrlx"  # control characters removed


def test_message_ids_are_cleaned_but_never_decoded() -> None:
    raw = (
        b"From: a@b.com\n"
        b"Message-ID: <=?utf-8?q?x?=@y>\n"
        b"In-Reply-To: <=?utf-8?q?x?=@y>\n"
        b"References: <r0@x>\n " + b"\n ".join(b"<r%d@x>" % i for i in range(1, 40)) + b"\n\nbody"
    )
    mail = parse_message(raw)
    assert mail.message_id == extract_message_id(raw) == "=?utf-8?q?x?=@y"
    assert mail.in_reply_to == ["=?utf-8?q?x?=@y"]
    assert mail.references == [f"r{i}@x" for i in range(40)]  # long and folded


def test_attachment_filenames_in_every_encoding() -> None:
    def name(disposition: bytes) -> str:
        raw = (
            b"From: a@b.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: application/pdf\n" + disposition + b"\n\n%PDF\n--b--\n"
        )
        [attachment] = parse_message(raw).attachments
        assert attachment.content == b"%PDF"
        return attachment.name

    assert name(b'Content-Disposition: attachment; filename="f\xc3\xbcr.pdf"') == "für.pdf"
    assert name(b'Content-Disposition: attachment; filename="f\xfcr.pdf"') == "für.pdf"
    assert name(b"Content-Disposition: attachment; filename*=iso-8859-1''f%FCr.pdf") == "für.pdf"
    assert (
        name(b'Content-Disposition: attachment; filename="=?utf-8?q?f=C3=BCr?=.pdf"') == "für.pdf"
    )
    assert name(
        b"Content-Disposition: attachment;\n filename*0*=utf-8''f%C3%BC;\n filename*1=r.pdf"
    ) == ("für.pdf")
    assert name(b"Content-Disposition: attachment") == "attachment-1.pdf"


def test_bare_lf_folded_headers_and_a_forwarded_message() -> None:
    raw = (
        b"From: Lena\n Lead <lena@example.com>\n"
        b"To: a@x.com,\n\tb@x.com\n"
        b"Subject: Fwd:\n =?utf-8?q?caf=C3=A9?=\n"
        b"Date: Mon, 10 Mar 2025\n 08:45:00 +0100\n"
        b"Content-Type: multipart/mixed;\n boundary=outer\n\n"
        b"--outer\nContent-Type: text/plain\n\nSee attached.\n"
        b"--outer\nContent-Type: message/rfc822\n\n"
        b"From: ceo@examp1e.com\nSubject: =?utf-8?q?Zahlung_f=C3=BCr?= heute\n\nWire it.\n"
        b"--outer--\n"
    )
    mail = parse_message(raw)
    assert (mail.from_name, mail.from_address) == ("Lena Lead", "lena@example.com")
    assert mail.to == ["a@x.com", "b@x.com"]
    assert mail.subject == "Fwd: café"
    assert mail.date == datetime(2025, 3, 10, 7, 45, tzinfo=UTC)
    assert mail.text == "See attached."
    [forwarded] = mail.attachments
    assert forwarded.name == "Zahlung für heute.eml"
    assert parse_message(forwarded.content).text == "Wire it."


# --- Hostile HTML ----------------------------------------------------------------------


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)


def assert_harmless(html: str) -> None:
    inspector = _Inspector()
    inspector.feed(html)
    forbidden = {"script", "style", "iframe", "form", "input", "button", "object", "embed"}
    assert not forbidden & set(inspector.tags), html
    for tag, name, value in inspector.attributes:
        assert not name.startswith("on"), html
        assert name not in {"style", "srcset", "background", "action", "formaction"}, html
        lowered = "".join(value.split()).lower()
        assert not lowered.startswith(("javascript:", "vbscript:", "data:")), html
        if tag == "img" and name == "src":
            assert lowered.startswith("cid:"), html
        if name == "href":
            assert lowered.startswith(("http:", "https:", "mailto:", "tel:")), html


HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<img src="https://tracker.example/p.gif">',
    '<img src="//tracker.example/p.gif">',
    '<img src="/relative.gif">',
    "<img srcset='https://tracker.example/a.png 2x' src='cid:ok'>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="/relative">x</a>',
    '<body onload="alert(1)">hi</body>',
    '<div style="background:url(https://tracker.example/bg)">x</div>',
    '<table background="https://tracker.example/bg.png"><tr><td>x</td></tr></table>',
    '<iframe src="https://evil.example"></iframe>',
    '<form action="https://evil.example"><input name=pw><button>Go</button></form>',
    '<button formaction="https://evil.example">x</button>',
    "<svg><script>alert(1)</script></svg>",
    "<svg onload=alert(1)>",
    "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<base href="https://evil.example/">',
    "<style>@import 'https://evil.example/x.css';</style>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<p title="</p><script>alert(1)</script>">x</p>',
    "<!--<script>alert(1)</script>-->",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<details open ontoggle="alert(1)">',
    '<video><source onerror="alert(1)"></video>',
]


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_hostile_html_is_neutralised(html: str) -> None:
    assert_harmless(sanitise_html(html))


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_hostile_html_in_a_message_is_neutralised(html: str) -> None:
    raw = (
        b"From: x@example.com\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + html.encode()
    )
    assert_harmless(parse_message(raw).html)


# --- Charsets and broken input: degrade, never raise ------------------------------------


def _mangled_inputs() -> list[bytes]:
    rng = random.Random(20250305)  # fixed, so a failure can be reproduced
    samples: list[bytes] = []
    for charset in [
        "x-unknown", "utf-7", "utf-16", "utf-32", "zlib", "base64", "rot13", "hex",
        "unicode_escape", "idna", "", '"', "utf-8'", "ks_c_5601-1987", "iso-2022-jp",
        "gb2312", "windows-1252", "us-ascii", "\x00", "a" * 300,
    ]:  # fmt: skip
        for body in (b"caf\xe9 \xff\xfe\x00 ok", b"\xe2\x80\x93 \xc3", b"+AGEAYgBj-"):
            samples.append(
                b"From: a@example.com\nSubject: =?"
                + charset.encode("latin-1")
                + b'?B?Y2Fm6Q==?=\nContent-Type: text/plain; charset="'
                + charset.encode("latin-1")
                + b'"\n\n'
                + body
            )
    for name in sorted(p.name for p in FIXTURES.glob("*.eml")):
        data = load(name)
        for cut in (1, 10, len(data) // 3, len(data) // 2, len(data) - 5):
            samples.append(data[:cut])
        for _ in range(3):
            flipped = bytearray(data)
            for _ in range(20):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            samples.append(bytes(flipped))
    for size in (1, 7, 100, 5000):
        samples.append(bytes(rng.randrange(256) for _ in range(size)))
    samples += [
        b"\x00" * 100,
        b"\n\n\n",
        b"Subject: only headers",
        b"no headers at all, just words \xe9",
        b"From: \xff\xfe\nTo: <<<@@@>>>\nCc: ,,,;;;\nDate: 31 Feb 99999 25:61\n\nx",
        b"Subject: =?utf-8?B?!!!notbase64?=\n\nx",
        b"Subject: =?utf-8?Q?=ZZ=?=\n\nx",
        b"Message-ID: <" + b"a" * 5000 + b"@x>\n\nx",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n--b--",
        b"Content-Type: multipart/mixed\n\nno boundary parameter",
        b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n====",
        b"Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=\n=Z",
        b"Content-Type: message/rfc822\n\nnot really a message",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
        b"--b\nContent-Type: message/delivery-status\n\n\n\n--b--",
        b"X: " + b"long " * 20000 + b"\n\nbody",
        # Absurd nesting, as a hostile sender might build to exhaust the parser.
        b"".join(
            b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(300)
        )
        + b"Content-Type: text/plain\n\ndeep",
    ]
    return samples


MANGLED = _mangled_inputs()


def _assert_storable(value: object) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # no lone surrogates
        assert "\x00" not in value
    elif isinstance(value, list):
        for item in value:
            _assert_storable(item)


@pytest.mark.parametrize("raw", MANGLED, ids=[f"mangled-{i}" for i in range(len(MANGLED))])
def test_mangled_input_never_raises_anything_but_unparseable(raw: bytes) -> None:
    try:
        mail = parse_message(raw)
    except UnparseableMessage:
        return
    for name, value in vars(mail).items():
        if name != "attachments":
            _assert_storable(value)
    for attachment in mail.attachments:
        _assert_storable(attachment.name)
        assert isinstance(attachment.content, bytes)
    assert_harmless(mail.html)
    extract_message_id(raw)  # must not raise either


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\r\n"])
def test_empty_message_is_unparseable(raw: bytes) -> None:
    with pytest.raises(UnparseableMessage):
        parse_message(raw)


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        (b"caf\xc3\xa9", "utf-8", "café"),
        (b"caf\xe9", "utf-8", "café"),  # declared UTF-8, really Latin-1
        (b"caf\xe9", "x-unknown", "café"),
        (b"caf\xc3\xa9", None, "café"),
        (b"\x93quoted\x94", "iso-8859-1", "\x93quoted\x94"),  # declared wins when valid
        (b"\x93quoted\x94", "us-ascii", "\u201cquoted\u201d"),  # Windows-1252 fallback
        (b"abc", "zlib", "abc"),  # not a text encoding: ignored
        (b"\x81\x8d\x8f", "utf-8", "\x81\x8d\x8f"),  # not in cp1252: Latin-1 at last
    ],
)
def test_decode_bytes_fallbacks(data: bytes, charset: str | None, expected: str) -> None:
    assert decode_bytes(data, charset) == expected


# --- Trimming ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold", "Thanks!"),
        ("Fixed.\n\nFrom: Desk <d@x>\nSent: Monday\nTo: me\n\nold", "Fixed."),
        ("Yes.\n\nOn Tue, 4 Mar 2025, Desk <d@x> wrote:\n> old", "Yes."),
        ("Oui.\n\nLe mar. 4 mars 2025, Desk <d@x> a écrit :\n> old", "Oui."),
        ("Ja.\n\nAm 04.03.2025 schrieb Desk <d@x>:\n> old", "Ja."),
        ("Answer.\n\n-- \nAda\nFinance", "Answer."),
        ("> quoted only\n> all of it", "> quoted only\n> all of it"),  # nothing new: keep
        (
            "From: the start of a list of things\nto check",
            "From: the start of a list of things\nto check",
        ),
        ("-- \nstarts with a signature marker", "-- \nstarts with a signature marker"),
    ],
)
def test_trim_text(text: str, expected: str) -> None:
    assert trim_text(text) == expected


def test_message_id_extraction_is_tolerant() -> None:
    assert extract_message_id(b"Message-ID:  <abc@x>  \r\n\r\nbody") == "abc@x"
    assert extract_message_id(b"Message-Id: abc@x\n\nbody") == "abc@x"  # no brackets
    assert extract_message_id(b"Subject: none\n\nMessage-ID: <body@x>") is None
    assert extract_message_id(b"Message-ID:\n\n") is None
    long_id = extract_message_id(b"Message-ID: <" + b"a" * 400 + b"@x>\n\n")
    assert long_id is not None
    assert long_id.startswith("sha256:")
    assert len(long_id) <= 255
