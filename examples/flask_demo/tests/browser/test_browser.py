"""A real browser (headless Chromium via Selenium) on a live server with the
bundled ml-latest-small: register, log in, search, rate, update and delete
a rating, see quick recommendations, wait for full recommendations after a
background retrain, and save a screenshot of every page.

Screenshots go to $MOVIEME_SCREENSHOTS (default: <repo>/artifacts/screenshots).
"""
import os
import shutil
import sys
import tempfile
import time

import pytest
from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), os.path.dirname(os.path.dirname(HERE))]
from server import Server  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SHOTS = os.environ.get("MOVIEME_SCREENSHOTS", os.path.join(REPO, "artifacts", "screenshots"))
CHROMIUM = os.environ.get("MOVIEME_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MOVIEME_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = str(tmp_path_factory.mktemp("browser-instance"))
    env = {"MOVIEME_DATA": os.environ.get("MOVIEME_TEST_BROWSER_DATA",
                                          os.path.join(REPO, "data", "ml-latest-small")),
           "MOVIEME_WORKER_POLL": "0.5", "MOVIEME_RETRAIN_MIN_GAP": "0",
           "MOVIEME_RETRAIN_MIN_RATINGS": "5", "MOVIEME_QUICK_MIN_RATINGS": "3",
           "MOVIEME_TRAIN_DELAY": "3",     # so the "being prepared" state is seen
           "MOVIEME_RETRAIN_INTERVAL": "3600"}
    if os.environ.get("MOVIEME_TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["MOVIEME_TEST_DATABASE_URL"]
    else:
        env["DATABASE_URL"] = "sqlite:///" + os.path.join(instance, "site.db")
    srv = Server(instance, env).start(timeout=180)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--user-data-dir=" + profile,
                 "--window-size=1280,900"]:
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name):
    """Full-page screenshot (the window grows to the page's height)."""
    os.makedirs(SHOTS, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 40, 5000)))
    path = os.path.join(SHOTS, name + ".png")
    assert driver.save_screenshot(path), path
    driver.set_window_size(1280, 900)
    assert os.path.getsize(path) > 5000
    return path


def replaced(element):
    """A wait condition: `element` is no longer in the document. As
    EC.staleness_of, but Chromium can also answer a question about a node of
    the page it is leaving with "Node with given id does not belong to the
    document", which means the same."""
    def gone(_):
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e):
                return True
            raise
    return gone


def submit(driver, button):
    """Click a button (or link) that loads a new page and wait for that page."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(driver, 20).until(replaced(page))
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete")


def rate_card(driver, movie_id, value):
    card = driver.find_element(By.CSS_SELECTOR, 'article[data-movie-id="%d"]' % movie_id)
    Select(card.find_element(By.NAME, "rating")).select_by_value(value)
    submit(driver, card.find_element(By.CSS_SELECTOR, ".rate-form button"))
    assert driver.find_elements(By.CSS_SELECTOR, ".flash.success")


def card_ids(driver, container=None):
    root = driver.find_element(By.ID, container) if container else driver
    return [int(e.get_attribute("data-movie-id"))
            for e in root.find_elements(By.CSS_SELECTOR, "article.card")]


def test_member_journey(server, browser):
    d, url = browser, server.url
    wait = WebDriverWait(d, 20)

    # guests land on the login page
    d.get(url + "/")
    assert "/login" in d.current_url
    shot(d, "01-login")

    # register (a wrong confirmation first)
    submit(d, d.find_element(By.LINK_TEXT, "Create an account"))   # a link: same wait
    assert "/register" in d.current_url
    d.find_element(By.ID, "username").send_keys("dana")
    d.find_element(By.ID, "email").send_keys("dana@example.org")
    d.find_element(By.ID, "password").send_keys("popcorn-please")
    d.find_element(By.ID, "confirm").send_keys("popcorn-pleas")
    submit(d, d.find_element(By.ID, "register-submit"))
    assert "The passwords do not match." in d.page_source
    shot(d, "02-register-error")
    d.find_element(By.ID, "password").send_keys("popcorn-please")
    d.find_element(By.ID, "confirm").send_keys("popcorn-please")
    shot(d, "03-register")
    submit(d, d.find_element(By.ID, "register-submit"))
    assert "/popular" in d.current_url
    assert "Welcome, dana!" in d.page_source
    shot(d, "04-popular")

    # rate from the popular list: the most rated movies of ml-latest-small
    ids = card_ids(d)
    assert 356 in ids and 318 in ids          # Forrest Gump, Shawshank
    rate_card(d, 318, "5.0")
    rate_card(d, 356, "4.5")
    # "pick movies you like": one click gives 5 stars
    submit(d, d.find_element(By.CSS_SELECTOR, 'article[data-movie-id="296"] .like-form button'))
    assert "Pulp Fiction (1994) 5 stars" in d.find_element(By.CSS_SELECTOR, ".flash.success").text
    # and from a search
    box = d.find_element(By.CSS_SELECTOR, ".searchbox input")
    box.send_keys("star wars")
    page = d.find_element(By.TAG_NAME, "html")
    box.send_keys("\n")
    wait.until(replaced(page))
    wait.until(EC.presence_of_element_located((By.ID, "result-count")))
    assert 260 in card_ids(d)
    rate_card(d, 260, "5.0")
    assert "/search?q=star" in d.current_url     # back where we were
    shot(d, "05-search")

    # three ratings: the full recommendations are now being prepared
    d.get(url + "/recommendations")
    status = d.find_element(By.ID, "full-status").get_attribute("data-status")
    assert status in ("preparing", "ready")
    if status == "preparing":
        assert "being prepared" in d.page_source
        shot(d, "06-full-preparing")

    # the movie page, with similar movies, and rating from it
    d.get(url + "/movie/1196")
    assert "Star Wars: Episode V" in d.find_element(By.ID, "movie-title").text
    assert len(card_ids(d)) == 12
    Select(d.find_element(By.CSS_SELECTOR, ".movie-detail select[name=rating]")).select_by_value("5.0")
    submit(d, d.find_element(By.CSS_SELECTOR, ".movie-detail .rate-form button"))
    assert d.find_elements(By.CSS_SELECTOR, ".flash.success")
    shot(d, "07-movie")

    # quick recommendations, computed on the spot
    t0 = time.monotonic()
    d.get(url + "/recommendations/quick")
    elapsed = time.monotonic() - t0
    quick = card_ids(d, "quick-recs")
    assert len(quick) == 12 and elapsed < 3.0
    assert not set(quick) & {318, 356, 296, 260, 1196}
    shot(d, "08-quick")

    # best movies, one genre
    d.get(url + "/best")
    Select(d.find_element(By.NAME, "genre")).select_by_value("Sci-Fi")
    submit(d, d.find_element(By.CSS_SELECTOR, ".filters button"))
    assert "genre=Sci-Fi" in d.current_url
    assert "Best movies: Sci-Fi" in d.page_source
    shot(d, "09-best-scifi")

    # my ratings: update one, delete one
    d.get(url + "/ratings")
    assert d.find_element(By.ID, "rating-count").text == "5"
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-movie-id="356"]')
    Select(row.find_element(By.NAME, "rating")).select_by_value("3.0")
    submit(d, row.find_element(By.CSS_SELECTOR, ".rate-form button"))
    assert d.find_elements(By.CSS_SELECTOR, ".flash.success")
    row = d.find_element(By.CSS_SELECTOR, 'tr[data-movie-id="356"]')
    assert "3 ★" in row.text or "3\n" in row.text or " 3" in row.text
    submit(d, d.find_element(By.CSS_SELECTOR, 'tr[data-movie-id="318"] button.danger'))
    assert d.find_elements(By.CSS_SELECTOR, ".flash.info")
    assert d.find_element(By.ID, "rating-count").text == "4"
    shot(d, "10-my-ratings")

    # full recommendations: the page refreshes itself until the retrain is done
    d.get(url + "/recommendations")
    WebDriverWait(d, 120, poll_frequency=1).until(
        lambda drv: drv.find_element(By.ID, "full-status").get_attribute("data-status") == "ready")
    full = card_ids(d, "full-recs")
    assert 40 <= len(full) <= 48
    assert not set(full) & {356, 296, 260, 1196}
    shot(d, "11-full-ready")

    # log out; a wrong password; log in again and land where we asked to go
    submit(d, d.find_element(By.ID, "logout"))
    assert "/login" in d.current_url
    d.get(url + "/ratings")
    assert "next=%2Fratings" in d.current_url
    d.find_element(By.ID, "username").send_keys("dana")
    d.find_element(By.ID, "password").send_keys("wrong-password")
    submit(d, d.find_element(By.ID, "login-submit"))
    assert "Wrong username or password." in d.find_element(By.ID, "login-error").text
    shot(d, "12-login-error")
    d.find_element(By.ID, "password").send_keys("popcorn-please")
    submit(d, d.find_element(By.ID, "login-submit"))
    assert "/ratings" in d.current_url
    assert d.find_element(By.ID, "rating-count").text == "4"

    # the home page and an error page
    d.get(url + "/")
    assert "Quick picks for you" in d.page_source
    shot(d, "13-home")
    d.get(url + "/movie/99999999")
    assert "Not found" in d.page_source
    shot(d, "14-not-found")

    # a phone-sized window: the layout reflows, nothing overflows sideways
    d.set_window_size(390, 844)
    d.get(url + "/recommendations/quick")
    width = d.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, width
    os.makedirs(SHOTS, exist_ok=True)
    d.save_screenshot(os.path.join(SHOTS, "15-phone-quick.png"))
    d.set_window_size(1280, 900)

    # the session cookie is not readable from JavaScript
    assert "session=" not in d.execute_script("return document.cookie")
