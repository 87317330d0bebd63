"""Staff sign in to every service's admin with their users account, in a browser, and
lose it on their next request once demoted in the users service (souk_common.staff).

Drives the system's Chromium headless (the ``browser`` fixture, tests/e2e/conftest.py),
with a screenshot of each step under var/screenshots/.
"""

from __future__ import annotations

import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from harness import PASSWORD, admin_headers

SIGNED_OUT = "You were signed out: the users service no longer confirms your staff access."


def admin_of(system, service: str, host: str = "127.0.0.1") -> str:
    """A service's admin. A browser keeps cookies per host, not per port: admins reached
    under one host name would share one session cookie, as they never do in production."""
    return system.url(service).replace("127.0.0.1", host) + "/admin/"


def sign_in(driver: WebDriver, admin: str, username: str, password: str) -> None:
    driver.get(admin + "login/?next=/admin/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def shows_site_administration(driver: WebDriver, username: str) -> bool:
    page = driver.page_source
    return (
        "Site administration" in page
        and username in driver.find_element(By.ID, "user-tools").text.lower()
    )


def staff_account(system) -> tuple[int, str]:
    """A new account made staff by the demo admin through the users service."""
    username = f"staff-{uuid.uuid4().hex[:8]}"
    registered = system.http.post(
        f"{system.gateway}/api/users/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    account_id = int(registered.json()["id"])
    set_staff(system, account_id, True)
    return account_id, username


def set_staff(system, account_id: int, is_staff: bool) -> None:
    response = system.http.patch(
        f"{system.gateway}/api/users/{account_id}/",
        json={"is_staff": is_staff},
        headers=admin_headers(system),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_staff"] is is_staff


def test_one_users_account_signs_in_to_two_services_admins(system, browser, screenshot):
    driver = browser()
    products, orders = admin_of(system, "products"), admin_of(system, "orders", "localhost")

    sign_in(driver, products, "admin", system.stack.admin_password)
    screenshot(driver, "1-products-admin")
    assert driver.current_url == products
    assert shows_site_administration(driver, "admin")
    assert "Catalogue" in driver.page_source

    sign_in(driver, orders, "admin", system.stack.admin_password)
    screenshot(driver, "2-orders-admin")
    assert driver.current_url == orders
    assert shows_site_administration(driver, "admin")
    assert "Orders" in driver.page_source

    driver.get(products)  # the first admin's session still holds
    assert shows_site_administration(driver, "admin")


def test_a_demoted_staff_member_is_refused_on_the_next_request(system, browser, screenshot):
    account_id, username = staff_account(system)
    staff, admin = browser(), browser()
    products = admin_of(system, "products")
    sign_in(staff, products, username, PASSWORD)
    sign_in(admin, products, "admin", system.stack.admin_password)
    screenshot(staff, "3-staff-signed-in")
    assert shows_site_administration(staff, username)

    set_staff(system, account_id, False)
    staff.get(products + "catalogue/product/")
    screenshot(staff, "4-demoted-staff-refused")

    assert staff.current_url == products + "login/?next=/admin/catalogue/product/"
    assert SIGNED_OUT in staff.find_element(By.CSS_SELECTOR, ".messagelist").text
    admin.get(products + "catalogue/product/")  # other staff are not affected
    assert "Select product to change" in admin.page_source
