"""The whole feedback loop in headless Chromium, against the real API, worker and SMTP server.

A customer opens the link from a captured e-mail on a phone-sized window, rates two stars with a
comment and submits (no JavaScript involved); the business sees the item in the inbox and
replies; the reviewer gets that reply by e-mail and answers it; the answer is in the thread.
Screenshots of every page go to test-artifacts/.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from models import Location
from tests.feedback.conftest import WEBHOOK_SECRET
from tests.feedback.helpers import GOOGLE_REVIEW_URL, link, location, send_now
from tests.support import ApiServer, free_port, wait_for
from workers.broker import broker
from workers.runner import start_worker

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def heading(browser) -> str:
    """The page's h1, or "" while a submitted form is still navigating (the old page's element
    goes stale under our feet)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return browser.find_element(By.TAG_NAME, "h1").text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "Chromium or chromedriver is not installed "
            "(apt-get install -y chromium chromium-driver; .ci/run does it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="plaudit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=390,844",  # a phone
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(15)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def live(smtp, configure):
    """The API on a loopback port and a worker, both in this process."""
    port = free_port()
    configure(public_url=f"http://127.0.0.1:{port}")
    broker.flush_all()
    worker = start_worker(2)
    try:
        with ApiServer(port) as api:
            yield api
    finally:
        worker.stop()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / f"feedback-{name}.png"))


def test_feedback_from_email_to_thread_in_a_real_browser(browser, live, smtp, owner, db):
    from selenium.webdriver.common.by import By

    api = httpx.Client(base_url=live.url, headers=owner.headers, timeout=10)
    place = location(db, owner.organisation.id)
    facebook = "https://www.facebook.com/example-cafe/reviews"
    api.patch("/api/v1/feedback/settings", json={"facebook_url": facebook}).raise_for_status()
    campaign = api.post("/api/v1/campaigns", json={"name": "Visits", "location_id": place.id})
    campaign_id = campaign.json()["campaign"]["id"]
    api.post(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        json={"recipients": [{"name": "Ann", "email": "ann@example.com"}]},
    ).raise_for_status()

    # Given the feedback request e-mail, sent by the worker through SMTP
    assert send_now() == 1
    [request_mail] = smtp.wait(1)
    feedback_url = link(request_mail, "feedback")

    # When the customer opens it, rates two stars, comments and submits
    browser.get(feedback_url)
    shot(browser, "1-form")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("How was your experience")
    browser.find_element(By.CSS_SELECTOR, "label[for='rating-2']").click()
    comment = "<script>document.title='owned'</script> The soup was cold."
    browser.find_element(By.ID, "comment").send_keys(comment)
    shot(browser, "2-filled")
    browser.find_element(By.CSS_SELECTOR, "button[type='submit']").click()

    # Then the thank-you page offers the public Google review link, as for any rating
    wait_for(lambda: "Thank you" in heading(browser))
    shot(browser, "3-thanks")
    google = browser.find_element(By.ID, "google-review")
    assert google.get_attribute("href") == GOOGLE_REVIEW_URL
    assert browser.find_element(By.ID, "facebook-review").get_attribute("href") == facebook
    assert browser.title != "owned"

    # And the answer is in the inbox, its comment kept as text
    items = api.get("/api/v1/items", params={"source": "plaudit"}).json()["items"]
    assert [(i["rating"], i["kind"]) for i in items] == [(2, "feedback")]
    item_id = items[0]["id"]
    browser.get(feedback_url)  # the page again: the comment shown escaped, not run
    shot(browser, "4-answered")
    assert browser.find_element(By.ID, "comment").get_attribute("value") == comment
    assert browser.title != "owned"

    # When the business replies through the API
    reply = api.post(
        f"/api/v1/items/{item_id}/reply",
        json={"text": "We are sorry, Ann. Next soup is on us."},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert reply.status_code == 202, reply.text

    # Then the reviewer gets it by e-mail, with a signed address to answer to
    notice = wait_for(lambda: smtp.to("ann@example.com")[1:])[0]
    assert "Next soup is on us." in notice.get_body(("plain",)).get_content()
    reply_to = notice["Reply-To"].addresses[0]

    # When the reviewer answers, Postmark posts it to the inbound webhook
    inbound = api.post(
        "/api/v1/webhooks/postmark/inbound",
        auth=("postmark", WEBHOOK_SECRET),
        json={
            "FromFull": {"Email": "ann@example.com", "Name": "Ann"},
            "ToFull": [{"Email": reply_to.addr_spec}],
            "OriginalRecipient": reply_to.addr_spec,
            "MailboxHash": "",
            "MessageID": "browser-flow-1",
            "TextBody": "Deal! See you Friday.\n\n> We are sorry, Ann.",
        },
    )
    assert inbound.json() == {"status": "added"}

    # Then the thread shows both sides
    thread = api.get(f"/api/v1/items/{item_id}/thread").json()["messages"]
    assert [(m["direction"], m["body"]) for m in thread] == [
        ("outbound", "We are sorry, Ann. Next soup is on us."),
        ("inbound", "Deal! See you Friday."),
    ]

    # The unsubscribe link of the e-mail, and a forged link, as the customer sees them
    browser.get(request_mail["List-Unsubscribe"].strip("<>"))
    shot(browser, "5-unsubscribe")
    browser.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    wait_for(lambda: "unsubscribed" in heading(browser))
    shot(browser, "6-unsubscribed")
    browser.get(feedback_url[:-3] + "xyz")
    assert browser.find_element(By.TAG_NAME, "h1").text == "This link is not valid"
    shot(browser, "7-forged")
    assert db.scalar(select(Location.new_review_uri)) == GOOGLE_REVIEW_URL
