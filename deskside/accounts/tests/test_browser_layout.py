"""The page shell in a real browser: assets, phone widths, keyboard use, contrast."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import Error, Page, Request, expect
from pytest_django.live_server_helper import LiveServer

from deskside.accounts import services
from deskside.accounts.models import normalise_email
from deskside.browser_testing import require_vendored_assets
from deskside.system import ratelimit
from deskside.testing import PASSWORD, Personas

PUBLIC_PAGES = ["/accounts/sign-in/", "/accounts/sign-in-link/", "/accounts/password-reset/"]

# Every element with its own text, with the colour of the text and of what is behind it
# (semi-transparent backgrounds blended over their ancestors), as WCAG contrast ratios.
CONTRAST_SCRIPT = """
() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const blend = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const background = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] === 1) break;
    }
    return layers.reverse().reduce((below, layer) => blend(layer, below), [255, 255, 255, 1]);
  };
  const luminance = (rgb) => {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const results = [];
  for (const element of document.querySelectorAll("body *")) {
    const ownText = [...element.childNodes]
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent.trim())
      .join("");
    if (!ownText) continue;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (style.visibility === "hidden" || box.width <= 1 || box.height <= 1) continue;
    const back = background(element);
    const fore = blend(parse(style.color), back);
    const [hi, lo] = [luminance(fore), luminance(back)].sort((x, y) => y - x);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    results.push({
      text: ownText.slice(0, 40),
      ratio: (hi + 0.05) / (lo + 0.05),
      needed: large ? 3 : 4.5,
    });
  }
  return results;
}
"""


def sign_in(page: Page, base_url: str, email: str) -> None:
    # Every sign-in counts towards the per-address and per-client limits, kept in the
    # shared cache (a table no test empties), and every browser test signs in from
    # 127.0.0.1: start each browser sign-in with clean counts.
    window = settings.LOGIN_WINDOW_SECONDS
    ratelimit.reset("login", normalise_email(email), window=window)
    ratelimit.reset("login-ip", "127.0.0.1", window=window)
    page.goto(f"{base_url}/accounts/sign-in/")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def assert_no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["inner"], f"{page.url} scrolls sideways: {widths}"


def assert_readable_contrast(page: Page) -> None:
    results = page.evaluate(CONTRAST_SCRIPT)
    assert results, "no text found to check"
    too_faint = [r for r in results if r["ratio"] < r["needed"]]
    assert not too_faint, f"{page.url} has text below WCAG AA contrast: {too_faint}"


@pytest.mark.browser
def test_htmx_is_installed_from_npm_and_served_by_us(live_server: LiveServer, page: Page) -> None:
    require_vendored_assets()
    requested: list[str] = []
    script_errors: list[str] = []

    def remember(request: Request) -> None:
        requested.append(request.url)

    def remember_error(error: Error) -> None:
        script_errors.append(str(error))

    page.on("request", remember)
    page.on("pageerror", remember_error)
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.wait_for_function("() => window.htmx !== undefined")
    assert page.evaluate("() => window.htmx.version").startswith("2.0.")
    assert page.evaluate("() => window.htmx.config.includeIndicatorStyles") is False
    assert not script_errors
    # Nothing comes from a CDN or any other site.
    assert requested
    assert all(url.startswith(live_server.url + "/") for url in requested), requested


@pytest.mark.browser
def test_stylesheet_is_served_and_applied(live_server: LiveServer, page: Page) -> None:
    response = page.request.get(f"{live_server.url}/static/deskside/app.css")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/css")
    page.goto(f"{live_server.url}/accounts/sign-in/")
    expect(page.locator("body")).to_have_css("background-color", "rgb(244, 247, 248)")


@pytest.mark.browser
@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize("width", [360, 375])
def test_public_pages_fit_a_phone(
    live_server: LiveServer, phone_page: Page, path: str, width: int
) -> None:
    phone_page.set_viewport_size({"width": width, "height": 740})
    phone_page.goto(live_server.url + path)
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_sideways_scroll(phone_page)
    # The main button is reachable without zooming: fully inside the screen's width.
    button = phone_page.get_by_role("main").get_by_role("button").first
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width


@pytest.mark.browser
def test_setup_page_fits_a_phone(live_server: LiveServer, phone_page: Page) -> None:
    phone_page.set_viewport_size({"width": 360, "height": 740})
    phone_page.goto(f"{live_server.url}/setup/{services.setup_token_create()}/")
    expect(phone_page.get_by_role("button", name="Create my account")).to_be_visible()
    assert_no_sideways_scroll(phone_page)


@pytest.mark.browser
def test_console_and_portal_fit_a_phone(
    live_server: LiveServer, phone_page: Page, personas: Personas
) -> None:
    phone_page.set_viewport_size({"width": 360, "height": 740})
    sign_in(phone_page, live_server.url, personas.admin.email)
    expect(phone_page).to_have_url(f"{live_server.url}/console/")
    nav = phone_page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="Administration")).to_be_in_viewport()
    assert_no_sideways_scroll(phone_page)

    phone_page.goto(f"{live_server.url}/portal/")
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text("How can IT help?")
    assert_no_sideways_scroll(phone_page)


@pytest.mark.browser
def test_page_landmarks(live_server: LiveServer, page: Page, personas: Personas) -> None:
    sign_in(page, live_server.url, personas.agent.email)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Console")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_attribute("id", "main")
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.browser
def test_first_tab_on_sign_in_page_focuses_skip_link(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()


@pytest.mark.browser
def test_skip_link_is_first_shows_on_focus_and_jumps_to_main(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    # An administrator's console home has a link in its main content to Tab to.
    sign_in(page, live_server.url, personas.admin.email)
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline == "solid"

    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    # The next stop is inside the main content, past the header's links.
    in_main = page.get_by_role("main").get_by_role("link", name="Go to Administration")
    expect(in_main).to_be_focused()


@pytest.mark.browser
def test_reduced_motion_turns_transitions_off(live_server: LiveServer, page: Page) -> None:
    duration = "(el) => parseFloat(getComputedStyle(el).transitionDuration)"
    page.emulate_media(reduced_motion="no-preference")
    page.goto(f"{live_server.url}/accounts/sign-in/")
    assert page.locator(".skip-link").evaluate(duration) > 0

    page.emulate_media(reduced_motion="reduce")
    page.reload()
    assert page.locator(".skip-link").evaluate(duration) < 0.001


@pytest.mark.browser
def test_text_contrast_meets_wcag_aa(
    live_server: LiveServer, page: Page, personas: Personas
) -> None:
    page.goto(f"{live_server.url}/accounts/sign-in/")
    assert_readable_contrast(page)
    page.get_by_role("button", name="Sign in", exact=True).click()  # empty: shows errors
    expect(page.get_by_role("alert")).to_be_visible()
    assert_readable_contrast(page)

    sign_in(page, live_server.url, personas.admin.email)
    assert_readable_contrast(page)  # the console, with its dark header
    page.goto(f"{live_server.url}/portal/")
    assert_readable_contrast(page)
