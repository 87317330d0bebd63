"""Plain SQL helpers: values prepared by their fields, statements run all or none."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from souk_common import sql

pytestmark = pytest.mark.django_db(transaction=True)


def update_group_name(old: str, new: str) -> sql.Statement:
    name = sql.column(Group, "name")
    return sql.Statement(
        f"UPDATE {sql.table(Group)} SET {name} = %s WHERE {name} = %s",  # noqa: S608
        [new, old],
    )


def test_insert_writes_every_row_in_one_statement():
    statement = sql.insert(Group, ["name"], [("tea",), ("coffee",)])

    assert statement is not None
    assert statement.sql.count("INSERT") == 1
    assert sql.execute_together([statement]) == 2
    assert sorted(Group.objects.values_list("name", flat=True)) == ["coffee", "tea"]


def test_insert_names_foreign_key_columns_from_the_field():
    kind = ContentType.objects.get_for_model(Group)

    sql.execute_together(
        [sql.insert(Permission, ["name", "content_type", "codename"], [("Brew", kind.pk, "brew")])]
    )

    assert Permission.objects.get(codename="brew").content_type == kind


def test_insert_without_rows_is_no_statement():
    assert sql.insert(Group, ["name"], []) is None
    assert sql.execute_together([None]) == 0


def test_the_row_count_is_the_first_statements():
    Group.objects.bulk_create([Group(name="a"), Group(name="b")])

    count = sql.execute_together(
        [update_group_name("missing", "x"), sql.insert(Group, ["name"], [("c",), ("d",)])]
    )

    assert count == 0
    assert Group.objects.count() == 4


def test_statements_run_all_or_none_outside_a_transaction():
    Group.objects.create(name="taken")

    with pytest.raises(IntegrityError):
        sql.execute_together(
            [update_group_name("taken", "renamed"), sql.insert(Group, ["name"], [("renamed",)])]
        )

    assert list(Group.objects.values_list("name", flat=True)) == ["taken"]


def test_statements_join_the_transaction_they_run_in():
    with transaction.atomic():
        sql.execute_together(
            [sql.insert(Group, ["name"], [("one",)]), sql.insert(Group, ["name"], [("two",)])]
        )
        transaction.set_rollback(True)

    assert not Group.objects.exists()


@pytest.mark.postgres
def test_postgresql_gets_them_in_one_round_trip():
    with CaptureQueriesContext(connection) as queries:
        sql.execute_together(
            [sql.insert(Group, ["name"], [("one",)]), update_group_name("one", "two")]
        )

    assert len(queries) == 1
    assert list(Group.objects.values_list("name", flat=True)) == ["two"]


def test_an_update_built_by_the_orm_is_sent_with_others():
    Group.objects.create(name="tea")
    Group.objects.create(name="coffee")

    renamed = sql.update(Group.objects.filter(name="tea"), name="green tea")
    untouched = sql.update(Group.objects.filter(name="cocoa"), name="hot chocolate")

    assert sql.execute_together([renamed, untouched]) == 1
    assert sorted(Group.objects.values_list("name", flat=True)) == ["coffee", "green tea"]
    assert sql.execute_together([untouched]) == 0


def test_an_update_filtered_across_a_relation_is_refused():
    with pytest.raises(ValueError, match="its own table"):
        sql.update(Permission.objects.filter(content_type__model="group"), name="x")


def test_a_row_is_inserted_with_a_change_only_if_the_change_changed_a_row():
    Group.objects.create(name="tea")
    renamed = update_group_name("tea", "green tea")
    missed = update_group_name("tea", "black tea")

    assert sql.execute_together(sql.insert_if_changed(renamed, Group, ["name"], ("noted",))) == 1
    assert sql.execute_together(sql.insert_if_changed(missed, Group, ["name"], ("not so",))) == 0

    assert sorted(Group.objects.values_list("name", flat=True)) == ["green tea", "noted"]


def test_a_change_and_its_row_are_all_or_none():
    Group.objects.create(name="tea")
    Group.objects.create(name="taken")

    with pytest.raises(IntegrityError):
        sql.execute_together(
            sql.insert_if_changed(
                update_group_name("tea", "green tea"), Group, ["name"], ("taken",)
            )
        )

    assert sorted(Group.objects.values_list("name", flat=True)) == ["taken", "tea"]


@pytest.mark.postgres
def test_postgresql_gets_a_change_its_row_and_others_in_one_round_trip():
    Group.objects.create(name="tea")

    with CaptureQueriesContext(connection) as queries:
        count = sql.execute_together(
            [
                *sql.insert_if_changed(
                    update_group_name("tea", "green tea"), Group, ["name"], ("mint",)
                ),
                sql.insert(Group, ["name"], [("sage",)]),
            ]
        )

    assert count == 1
    assert len(queries) == 1
    assert sorted(Group.objects.values_list("name", flat=True)) == ["green tea", "mint", "sage"]
