"""The storefront in a real browser, against the whole stack: a guest shops, signs up
with the cart merged, checks out and watches the order ship; a declined card, stock gone
between cart and checkout, a double click, a phone's screen.

Each step is saved as a screenshot under var/screenshots/<test>/ (docs/storefront.md).
"""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest
import requests
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from harness import (
    PASSWORD,
    admin_headers,
    bearer,
    new_product,
    product_stock,
    sign_in,
    wait_for,
)

# Payment and shipping run on events: an order reaches "shipped" within seconds.
ORDER_TIMEOUT = 60


def shop(system, driver: WebDriver, path: str = "/") -> None:
    driver.get(system.url("storefront") + path)


def wait_until(driver: WebDriver, condition, timeout: float = 15):
    """``condition()`` once true; an element htmx swapped out meanwhile is looked up again."""
    wait = WebDriverWait(
        driver,
        timeout,
        poll_frequency=0.1,
        ignored_exceptions=[StaleElementReferenceException, NoSuchElementException],
    )
    return wait.until(lambda _: condition())


def text_of(driver: WebDriver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def htmx_idle(driver: WebDriver) -> bool:
    """No htmx request under way (htmx marks the element that sent one)."""
    return driver.execute_script("return !document.querySelector('.htmx-request')")


def add_from_the_catalogue(driver: WebDriver, name: str) -> None:
    """Press "Add to cart" on the product's card (htmx answers in the card and updates the
    header's count), once the results have settled."""
    before = int(text_of(driver, "#cart-count"))
    wait_until(driver, lambda: htmx_idle(driver))
    card = driver.find_element(By.XPATH, f"//li[@class='card'][.//a[text()='{name}']]")
    card.find_element(By.CSS_SELECTOR, "button.add").click()
    wait_until(driver, lambda: text_of(driver, "#cart-count") == str(before + 1))
    assert "Added" in card.find_element(By.CSS_SELECTOR, ".add-status").text


def sign_up(system, driver: WebDriver) -> str:
    username = f"shopper{uuid.uuid4().hex[:8]}"
    shop(system, driver, "/signup/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_email").send_keys(f"{username}@example.com")
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    wait_until(driver, lambda: f"Welcome to Souk, {username}." in driver.page_source)
    return username


def add_to_cart(system, driver: WebDriver, product_id: int, quantity: int) -> None:
    shop(system, driver, f"/products/{product_id}/")
    field = driver.find_element(By.ID, "id_quantity")
    field.clear()
    field.send_keys(str(quantity))
    driver.find_element(By.CSS_SELECTOR, ".add-form button").click()
    wait_until(driver, lambda: "Your cart" in driver.title)


def fill_address(driver: WebDriver) -> None:
    for field, value in {
        "id_name": "Ada Lovelace",
        "id_line1": "1 Rue de la Paix",
        "id_postal_code": "75002",
        "id_city": "Paris",
    }.items():
        driver.find_element(By.ID, field).send_keys(value)
    Select(driver.find_element(By.ID, "id_country")).select_by_value("FR")


def fill_checkout(system, driver: WebDriver, card: str = "tok_visa") -> None:
    shop(system, driver, "/checkout/")
    fill_address(driver)
    # The shipping quote follows the address (htmx), before anything is placed.
    wait_until(driver, lambda: "Colissimo" in text_of(driver, "#quote"))
    driver.find_element(By.CSS_SELECTOR, f"input[value='{card}']").click()


def status_shown(driver: WebDriver) -> str:
    return text_of(driver, "#order-status-label")


def orders_of(system, username: str) -> list[dict]:
    token = sign_in(system, username)["access"]
    response = system.http.get(f"{system.gateway}/api/orders/", headers=bearer(token), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def test_a_guest_shops_signs_up_checks_out_and_sees_the_order_ship(system, browser, screenshot):
    driver = browser()

    shop(system, driver)
    assert "Sencha green tea, 100 g" in driver.page_source
    screenshot(driver, "01-catalogue")

    driver.find_element(By.ID, "id_q").send_keys("sencha")
    wait_until(driver, lambda: text_of(driver, ".summary").startswith("1 product"))
    assert "sencha" in driver.current_url  # the search is in the address, for back and share
    screenshot(driver, "02-search")
    add_from_the_catalogue(driver, "Sencha green tea, 100 g")

    shop(system, driver, "/?category=coffee&ordering=-price")
    names = [link.text for link in driver.find_elements(By.CSS_SELECTOR, ".card-title a")]
    assert names, "no coffee on sale"
    add_from_the_catalogue(driver, names[0])
    assert text_of(driver, "#cart-count") == "2"

    shop(system, driver, "/cart/")
    screenshot(driver, "03-guest-cart")
    assert "Sencha green tea, 100 g" in driver.page_source
    assert names[0] in driver.page_source

    username = sign_up(system, driver)
    assert "Your cart is with your account now: 2 items." in driver.page_source
    shop(system, driver, "/cart/")
    screenshot(driver, "04-cart-merged-after-sign-up")
    assert "Sencha green tea, 100 g" in driver.page_source
    assert names[0] in driver.page_source

    fill_checkout(system, driver)
    screenshot(driver, "05-checkout")
    driver.find_element(By.ID, "place-order").click()
    wait_until(driver, lambda: "/orders/" in driver.current_url)
    screenshot(driver, "06-order-placed")
    assert status_shown(driver) in ("Awaiting payment", "Paid", "Shipped")

    # The page follows the order by itself: no reload, no click.
    wait_until(driver, lambda: status_shown(driver) == "Shipped", timeout=ORDER_TIMEOUT)
    screenshot(driver, "07-order-shipped")
    assert "tracking number" in text_of(driver, "#order-status")

    orders = orders_of(system, username)
    assert [order["status"] for order in orders] == ["shipped"]
    assert {line["name"] for line in orders[0]["items"]} == {"Sencha green tea, 100 g", names[0]}

    shop(system, driver, "/orders/")
    screenshot(driver, "08-order-history")
    assert "Shipped" in driver.page_source


def test_a_quantity_typed_in_the_cart_updates_the_cart_by_itself(system, browser):
    """With scripts on, the cart follows the quantity field as it changes: no button."""
    product_id = new_product(system, stock=10, price="2.50")
    driver = browser()
    add_to_cart(system, driver, product_id, 1)
    assert text_of(driver, "#cart-count") == "1"

    field = driver.find_element(By.ID, f"qty-{product_id}")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("3", Keys.TAB)

    wait_until(driver, lambda: text_of(driver, "#cart-count") == "3")
    field = driver.find_element(By.ID, f"qty-{product_id}")
    assert field.get_attribute("value") == "3"
    assert text_of(driver, ".line-total") == "€7.50"  # 3 x €2.50


def test_a_declined_card_shows_the_reason_and_the_stock_is_back(system, browser, screenshot):
    product_id = new_product(system, stock=5)
    driver = browser()
    username = sign_up(system, driver)
    add_to_cart(system, driver, product_id, 2)

    fill_checkout(system, driver, card="tok_chargeDeclined")
    driver.find_element(By.ID, "place-order").click()
    wait_until(driver, lambda: status_shown(driver) == "Payment failed", timeout=ORDER_TIMEOUT)
    screenshot(driver, "declined")

    assert "Your card was declined." in text_of(driver, "#order-status")
    assert wait_for(lambda: product_stock(system, product_id) == 5, timeout=30)
    assert [order["status"] for order in orders_of(system, username)] == ["payment_failed"]


def test_stock_gone_between_cart_and_checkout_names_the_product(system, browser, screenshot):
    product_id = new_product(system, stock=3)
    name = system.http.get(f"{system.gateway}/api/products/{product_id}/", timeout=10).json()[
        "name"
    ]
    driver = browser()
    username = sign_up(system, driver)
    add_to_cart(system, driver, product_id, 2)
    fill_checkout(system, driver)

    # Someone else buys most of it meanwhile (staff set the stock).
    taken = system.http.patch(
        f"{system.gateway}/api/products/{product_id}/",
        json={"stock": 1},
        headers=admin_headers(system),
        timeout=10,
    )
    assert taken.status_code == 200, taken.text
    driver.find_element(By.ID, "place-order").click()
    wait_until(driver, lambda: "Sorry:" in driver.page_source)
    screenshot(driver, "out-of-stock")

    assert f"only 1 of {name} left (you asked for 2)" in text_of(driver, ".alert")
    # The refused attempt is on record, holding nothing.
    assert [order["status"] for order in orders_of(system, username)] == ["rejected"]
    assert product_stock(system, product_id) == 1


def test_double_clicking_place_order_places_one_order(system, browser, screenshot):
    product_id = new_product(system, stock=10)
    driver = browser()
    username = sign_up(system, driver)
    add_to_cart(system, driver, product_id, 1)
    fill_checkout(system, driver)

    ActionChains(driver).double_click(driver.find_element(By.ID, "place-order")).perform()
    wait_until(driver, lambda: "/orders/" in driver.current_url, timeout=30)
    screenshot(driver, "after-double-click")

    orders = orders_of(system, username)
    assert len(orders) == 1
    assert wait_for(lambda: product_stock(system, product_id) == 9, timeout=30)


def test_the_same_checkout_form_sent_twice_at_once_places_one_order(system, browser):
    """Past the page's script: the browser's form, with its cookies, sent twice at the
    same moment (as a retry or a second tab would): its Idempotency-Key makes one order,
    and both answers lead to it."""
    product_id = new_product(system, stock=10)
    driver = browser()
    username = sign_up(system, driver)
    add_to_cart(system, driver, product_id, 1)
    fill_checkout(system, driver)
    body = driver.execute_script(
        "return new URLSearchParams("
        "new FormData(document.getElementById('checkout-form'))).toString()"
    )
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])

    def send(_: int) -> requests.Response:
        return session.post(
            system.url("storefront") + "/checkout/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            timeout=60,
        )

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(send, range(2)))

    assert [answer.status_code for answer in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    orders = orders_of(system, username)
    assert len(orders) == 1
    assert answers[0].headers["Location"] == f"/orders/{orders[0]['id']}/"
    assert wait_for(lambda: product_stock(system, product_id) == 9, timeout=30)


def test_without_javascript_a_shopper_still_buys_and_sees_the_order_ship(
    system, browser, screenshot
):
    """Progressive enhancement: plain forms and links, the quote by its button, the order
    page refreshing itself (a meta refresh) until the order has shipped."""
    product_id = new_product(system, stock=10)
    driver = browser(javascript=False)
    sign_up(system, driver)
    assert '<html lang="en">' in driver.page_source  # shop.js never ran to add class="js"
    add_to_cart(system, driver, product_id, 2)

    shop(system, driver, "/checkout/")
    fill_address(driver)
    driver.find_element(By.CSS_SELECTOR, "button[name=quote]").click()
    wait_until(driver, lambda: "Colissimo" in text_of(driver, "#quote"))
    screenshot(driver, "quote-without-javascript")
    driver.find_element(By.ID, "place-order").click()
    wait_until(driver, lambda: "/orders/" in driver.current_url)
    wait_until(driver, lambda: status_shown(driver) == "Shipped", timeout=ORDER_TIMEOUT)
    screenshot(driver, "shipped-without-javascript")

    assert product_stock(system, product_id) == 8


def test_a_forgotten_password_is_reset_through_the_mailed_link(system, browser, screenshot):
    driver = browser()
    username = sign_up(system, driver)
    driver.find_element(By.CSS_SELECTOR, "form[action='/signout/'] button").click()
    # The click only schedules the form's navigation: opening another page before it
    # lands would race it (and lose to it now and then).
    wait_until(driver, lambda: "You are signed out." in driver.page_source)

    shop(system, driver, "/password-reset/")
    driver.find_element(By.ID, "id_email").send_keys(f"{username}@example.com")
    driver.find_element(By.CSS_SELECTOR, "form.stack button").click()
    wait_until(
        driver, lambda: "a link to choose a new password is on its way" in driver.page_source
    )
    mail = wait_for(
        lambda: [
            m
            for m in system.smtp.mail
            if m.to == f"{username}@example.com" and "Reset" in m.subject
        ],
        timeout=30,
    )[-1]
    link = next(word for word in mail.text.split() if word.startswith(system.url("storefront")))

    driver.get(link)
    driver.find_element(By.ID, "id_new_password").send_keys("a-brand-new-passphrase-42")
    screenshot(driver, "new-password")
    driver.find_element(By.CSS_SELECTOR, "form.stack button").click()
    wait_until(driver, lambda: "Your password is changed." in driver.page_source)

    assert sign_in(system, username, "a-brand-new-passphrase-42")["access"]


@pytest.mark.parametrize("page", ["catalogue", "product", "cart", "checkout", "order", "sign-in"])
def test_every_page_fits_a_phone_screen(system, browser, screenshot, page):
    driver = browser(phone=True)
    product_id = new_product(system, stock=10)
    paths = {"catalogue": "/", "product": f"/products/{product_id}/", "sign-in": "/signin/"}
    if page in ("cart", "checkout", "order"):
        sign_up(system, driver)
        add_to_cart(system, driver, product_id, 3)
        paths["cart"] = "/cart/"
    if page == "checkout":
        fill_checkout(system, driver)
    if page == "order":
        fill_checkout(system, driver)
        driver.find_element(By.ID, "place-order").click()
        wait_until(driver, lambda: "/orders/" in driver.current_url)
    if page in paths:
        shop(system, driver, paths[page])

    width, viewport = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    screenshot(driver, f"phone-{page}")
    assert viewport == 390
    assert width <= viewport, f"{page} scrolls sideways on a phone: {width} > {viewport}"
