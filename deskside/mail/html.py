"""Incoming HTML made safe to show, and turned into readable plain text.

The allow-list keeps formatting only: no scripts, forms or event attributes, and images
only from the message's own ``cid:`` parts, so no reader is tracked and the server never
fetches anything.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s",
    "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
HTML_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
}
# Removed together with everything inside them: code, styling, embedded pages, and forms
# (a form in an email is almost always phishing for a password).
HTML_DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "textarea", "select", "button", "noscript", "template", "title", "svg", "math", "head",
}  # fmt: skip
_LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if tag == "img" and attribute == "src":
        # Only images carried in the message itself. A remote image would be fetched by
        # the reader's browser, telling the sender who read the mail and when.
        return value.strip() if lowered.startswith("cid:") else None
    if tag == "a" and attribute == "href":
        return value.strip() if lowered.startswith(_LINK_SCHEMES) else None
    return value


def sanitise_html(html: str) -> str:
    """HTML safe to show: allow-listed formatting only, no scripts, no remote images."""
    return nh3.clean(
        html,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        clean_content_tags=HTML_DROPPED_WITH_CONTENT,
        url_schemes={"http", "https", "mailto", "tel", "cid"},
        attribute_filter=_attribute_filter,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BLOCK_TAGS = {
    "p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "table", "ul", "ol", "dl", "dt", "dd", "hr",
}  # fmt: skip


class _TextRenderer(HTMLParser):
    """A readable plain-text rendering of (already sanitised) HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.quote_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote":
            self.quote_depth += 1
        if tag in _BLOCK_TAGS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        if tag in {"td", "th"}:
            self.out.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        if tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        text = re.sub(r"[ \t\r\n\f\v]+", " ", data)
        if self.quote_depth:
            text = text.replace("\n", "\n" + "> " * self.quote_depth)
            if not self.out or self.out[-1].endswith("\n"):
                text = "> " * self.quote_depth + text.lstrip()
        self.out.append(text)

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self.out).replace("\xa0", " ").split("\n")]
        joined = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    renderer = _TextRenderer()
    try:
        renderer.feed(sanitise_html(html))
        renderer.close()
    except Exception:
        # Imported here: the parser imports this module for its HTML handling.
        from deskside.mail.headers import clean_text

        return clean_text(re.sub(r"<[^>]*>", " ", html))
    return renderer.text()
