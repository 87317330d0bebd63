"""The catalogue at any size: the count rule, cursors past it, and a plan from an index
for every public list query (on PostgreSQL; the rest on SQLite too, see `nox -s sqlite`).

The count limit is 1,000 in the service (souk_common.pagination.COUNT_LIMIT); these
tests lower it to a few products, which behave as 1,000 would.
"""

import base64
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Product
from souk_common.pagination import CappedCountPaginator

LIMIT = 6


@pytest.fixture
def count_limit(monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "count_limit", LIMIT)
    return LIMIT


def walk(api, path, query):
    """Every product the list gives, following its next links to the end."""
    seen, pages = [], 0
    response = api.get(path, query)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        seen += [product["id"] for product in body["results"]]
        pages += 1
        if body["next"] is None:
            return seen, pages
        assert pages < 50, "the next links go round in circles"
        response = api.get(body["next"])


def test_count_is_exact_up_to_the_limit(api, make_product, count_limit):
    for _ in range(LIMIT - 1):
        make_product()

    body = api.get("/api/products/").json()

    assert body["count"] == LIMIT - 1
    assert body["next"] is None


def test_count_stops_at_the_limit_and_the_pages_at_what_it_counts(api, make_product, count_limit):
    for _ in range(LIMIT + 4):
        make_product()

    first = api.get("/api/products/", {"page_size": 2}).json()
    beyond = api.get("/api/products/", {"page_size": 2, "page": LIMIT // 2 + 1})

    assert first["count"] == LIMIT  # "1,000 or more"
    assert beyond.status_code == 404


def test_past_the_count_the_next_links_carry_a_cursor_to_the_end(api, make_product, count_limit):
    products = [make_product() for _ in range(LIMIT + 5)]

    last_page = api.get("/api/products/", {"page_size": 2, "page": LIMIT // 2}).json()
    seen, pages = walk(api, "/api/products/", {"page_size": 2})

    assert "cursor=" in last_page["next"]
    assert "page=" not in last_page["next"]
    assert seen == [product.pk for product in products]
    assert pages == 6


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("name", lambda p: (p.name, p.pk)),
        ("price", lambda p: (p.price, p.pk)),
        ("-price", lambda p: (-p.price, -p.pk)),
        ("-created_at", lambda p: (-p.created_at.timestamp(), -p.pk)),
    ],
)
def test_cursor_pages_keep_the_order_through_ties(api, make_product, count_limit, ordering, key):
    # Three names and three prices for eleven products: most of the order is ties.
    products = [
        make_product(name=f"Lamp {n % 3}", price=f"{n % 3 + 1}.50") for n in range(LIMIT + 5)
    ]

    seen, _ = walk(api, "/api/products/", {"page_size": 2, "ordering": ordering})

    assert seen == [product.pk for product in sorted(products, key=key)]


def test_a_cursor_page_after_a_change_neither_repeats_nor_skips(api, make_product, count_limit):
    products = [make_product() for _ in range(LIMIT + 4)]
    last_page = api.get("/api/products/", {"page_size": 2, "page": LIMIT // 2}).json()
    make_product()  # added at the end while the reader reads

    Product.objects.filter(pk=products[0].pk).update(is_active=False)  # gone before it
    page = api.get(last_page["next"]).json()

    assert [p["id"] for p in page["results"]] == [products[LIMIT].pk, products[LIMIT + 1].pk]


def test_a_cursor_filters_like_the_list_it_came_from(api, make_product, coffee, count_limit):
    teas = [make_product() for _ in range(LIMIT + 2)]
    make_product(category=coffee)

    seen, _ = walk(api, "/api/products/", {"page_size": 3, "category": "tea"})

    assert seen == [product.pk for product in teas]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "WyJpZCJdLFsiMSJdXQ",  # ["id"], ["1"]: an order the list does not have
        "W1siaWQiXSxbImFiYyJdXQ",  # [["id"], ["abc"]]: no id
        "W1siaWQiXSxbIjEiLCIyIl1d",  # [["id"], ["1", "2"]]: too many values
        "W1siaWQiXSxbIjk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5Il1d",  # an id beyond bigint
    ],
)
def test_a_cursor_the_list_did_not_give_is_a_validation_error(api, make_product, cursor):
    make_product()

    response = api.get("/api/products/", {"cursor": cursor})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "cursor" in error["details"]


def cursor_of(ordering, values):
    raw = json.dumps([ordering, values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("ordering", "cursor", "answers"),
    [
        ("name", cursor_of(["name", "id"], ["a\x00b", "1"]), (400,)),  # no column holds a NUL
        ("name", cursor_of(["name", "id"], ["\ud800", "1"]), (400,)),  # nor a lone surrogate
        (
            "-created_at",
            cursor_of(["-created_at", "-id"], ["9999-12-31T23:59:59-14:00", "1"]),
            (200, 400),
        ),
        (
            "-created_at",
            cursor_of(["-created_at", "-id"], ["0001-01-01T00:00:00+14:00", "1"]),
            (200, 400),
        ),
        (
            "price",
            cursor_of(["price", "id"], ["1" * 50, "1"]),
            (400,),
        ),  # more digits than the column
        ("price", cursor_of(["price", "id"], ["NaN", "1"]), (400,)),
        (
            None,
            base64.urlsafe_b64encode(b"[" * 1100).decode(),
            (400,),
        ),  # nested to exhaust the parser
        (None, "A" * 9000, (400,)),
    ],
)
def test_a_made_up_cursor_is_a_400_never_a_500(api, make_product, ordering, cursor, answers):
    """(A moment out of SQLite's range is one PostgreSQL holds: there, a page after it.)"""
    make_product()
    api.raise_request_exception = False

    query = {"cursor": cursor, **({"ordering": ordering} if ordering else {})}
    response = api.get("/api/products/", query)

    assert response.status_code in answers, response.content


def test_a_list_that_fits_on_its_first_page_is_read_in_one_query(api, make_product):
    made = [make_product().pk for _ in range(3)]

    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/products/", {"ordering": "name"}).json()

    assert (body["count"], body["next"]) == (3, None)
    assert [product["id"] for product in body["results"]] == made
    read = [q["sql"] for q in queries.captured_queries if "catalogue_product" in q["sql"]]
    assert len(read) == 1, read  # its rows, and no COUNT


def test_a_first_page_that_is_full_is_counted(api, make_product):
    made = [make_product().pk for _ in range(5)]

    first = api.get("/api/products/", {"ordering": "name", "page_size": 2}).json()
    last = api.get("/api/products/", {"ordering": "name", "page_size": 2, "page": 3}).json()
    exactly = api.get("/api/products/", {"ordering": "name", "page_size": 5}).json()

    assert (first["count"], first["next"]) == (5, "/api/products/?ordering=name&page=2&page_size=2")
    assert [product["id"] for product in first["results"]] == made[:2]
    assert (last["count"], last["next"], len(last["results"])) == (5, None, 1)
    assert (exactly["count"], exactly["next"], len(exactly["results"])) == (5, None, 5)


def test_a_list_of_exactly_the_limit_ends_without_a_next_link(api, make_product, count_limit):
    for _ in range(LIMIT):
        make_product()

    last = api.get("/api/products/", {"page_size": 2, "page": LIMIT // 2}).json()

    assert last["count"] == LIMIT
    assert last["next"] is None


def test_a_cursor_of_another_order_is_refused(api, make_product, count_limit):
    for _ in range(LIMIT + 2):
        make_product()
    by_name = api.get("/api/products/", {"page_size": 2, "page": 3, "ordering": "name"}).json()

    cursor = by_name["next"].split("cursor=")[1].split("&")[0]
    response = api.get("/api/products/", {"cursor": cursor, "ordering": "price"})

    assert response.status_code == 400


def test_the_schema_names_the_cursor(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    parameters = schema["paths"]["/api/products/"]["get"]["parameters"]
    assert "cursor" in {parameter["name"] for parameter in parameters}


# On PostgreSQL: each public list query has an index that answers it in order -------


PUBLIC_QUERIES = [
    ({}, "catalogue_product_pkey"),
    ({"search": "lantern"}, "product_search_trgm"),
    ({"search": "SKU-77"}, "product_search_trgm"),
    ({"search": "xylophonic"}, "product_search_trgm"),
    ({"category": "tea", "ordering": "-price"}, "product_active_category_price"),
    ({"category": "tea"}, "product_active_category_id"),
    ({"min_price": "1", "max_price": "2", "ordering": "price"}, "product_active_price_id"),
    ({"ordering": "name", "page": "2"}, "product_active_name_id"),
    ({"ordering": "-created_at"}, "product_active_created_id"),
]


BTREE_INDEXES = [index for _, index in PUBLIC_QUERIES if index.startswith("product_active")]


@pytest.fixture
def large_catalogue(tea, coffee):
    """Three thousand products (in bulk: no ledger, only what a list reads), analysed."""
    Product.objects.bulk_create(
        Product(
            sku=f"SKU-{n}",
            name=f"Lantern {n}" if n % 300 == 0 else f"Lamp {n}",
            description="A xylophonic chime." if n % 300 == 1 else "Light for the table.",
            price=Decimal(n % 90 + 1),
            stock=n % 7,
            category=tea if n % 100 == 0 else coffee,  # a small category, and a large one
        )
        for n in range(3000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalogue_product")


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "index"), PUBLIC_QUERIES)
def test_each_public_list_query_is_answered_from_its_index(api, large_catalogue, query, index):
    """With sequential scans made prohibitively dear, and sorts (search: scans of an
    index in its order, as its few matches are sorted), the planner answers each list
    query from the index made for it: it exists, and matches the SQL the ORM writes."""
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/products/", query).status_code == 200
    (page,) = [
        q["sql"]
        for q in queries
        if 'FROM "catalogue_product"' in q["sql"]
        and "LIMIT" in q["sql"]
        and "COUNT" not in q["sql"]
    ]

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if "search" in query:
            # Only the trigram indexes, for bitmap scans; on so small a table the planner
            # would rather read a B-tree whole. (Dropped in the test's transaction only.)
            cursor.execute("SET LOCAL enable_indexscan = off")
            for name in BTREE_INDEXES:
                cursor.execute(f'DROP INDEX "{name}"')
        else:
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert f" {index} " in plan, plan
    if "search" not in query:
        assert "Sort" not in plan, plan


@pytest.mark.django_db(transaction=True)
def test_the_index_migration_builds_every_index_without_holding_writes():
    """CONCURRENTLY on PostgreSQL (no lock on writes during a build); SQLite has no such
    thing, nor trigrams: there the same migration makes the B-tree indexes only."""
    from io import StringIO

    out = StringIO()
    call_command("sqlmigrate", "catalogue", "0002", stdout=out)
    statements = [
        line for line in out.getvalue().splitlines() if line.startswith(("CREATE", "DROP"))
    ]

    if connection.vendor == "postgresql":
        assert statements
        assert all("CONCURRENTLY" in s for s in statements if "INDEX" in s), statements
        assert sum("USING gin" in s for s in statements) == 1
    else:
        assert not any("gin" in s.lower() for s in statements)
        assert sum(s.startswith("CREATE INDEX") for s in statements) == 5


def test_search_is_a_substring_of_name_sku_or_description_in_any_case(api, make_product):
    wanted = [
        make_product(name="Brass LANTERN"),
        make_product(sku="LANTERN-7"),
        make_product(description="Lights like a lantern."),
    ]
    make_product(name="Brass lamp")

    body = api.get("/api/products/", {"search": "antern"}).json()

    assert [p["id"] for p in body["results"]] == [p.pk for p in wanted]
    assert body["count"] == 3
    assert Decimal(body["results"][0]["price"]) == Decimal("5.00")


@pytest.mark.django_db(transaction=True)
def test_the_index_migration_can_be_undone_and_done_again():
    def indexes():
        with connection.cursor() as cursor:
            found = connection.introspection.get_constraints(cursor, "catalogue_product")
        return {name for name, details in found.items() if details["index"]}

    call_command("migrate", "catalogue", "0001", verbosity=0)
    undone = indexes()
    call_command("migrate", "catalogue", verbosity=0)

    assert "product_active_name" in undone
    assert "product_active_name_id" not in undone
    assert {"product_active_name_id", "product_active_category_price"} <= indexes()
    assert "product_active_name" not in indexes()


def _index_definitions() -> dict[str, tuple[bool, str]]:
    """The catalogue's indexes on PostgreSQL: whether each is valid, and its definition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = 'catalogue_product'::regclass"
        )
        return {name: (valid, definition) for name, valid, definition in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_index_migration_run_again_finishes_what_a_failed_run_started(make_product):
    """A run stopped half way has built some indexes whole and left one INVALID (a build
    CONCURRENTLY that fails leaves its index so): run again, the migration keeps the
    first, builds the INVALID one again, and builds the rest."""
    make_product(name="Twin")
    make_product(name="Twin")
    built = _index_definitions()
    call_command("migrate", "catalogue", "0001", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(built["product_active_category_id"][1])  # built by the earlier run
        with pytest.raises(IntegrityError):
            # A build that fails half way, under the name the migration builds next.
            cursor.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY product_active_category_price"
                " ON catalogue_product (name)"
            )
    assert _index_definitions()["product_active_category_price"][0] is False

    call_command("migrate", "catalogue", verbosity=0)

    assert _index_definitions() == built
