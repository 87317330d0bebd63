"""The default shipping rates: the countries the shop ships to out of the box.

Deterministic and documented (README, "Shipping"); staff change them in the admin.
Every country ships free from a subtotal of 100.00; below it an order costs the base
cost plus the cost per item times the number of items.
"""

from decimal import Decimal

from django.db import migrations

# country, name, carrier, base cost, cost per item, free over, working days
DEFAULT_RATES = [
    ("GB", "United Kingdom", "Royal Mail", "3.95", "0.50", "100.00", 2),
    ("IE", "Ireland", "An Post", "6.95", "0.75", "100.00", 4),
    ("FR", "France", "Colissimo", "7.95", "0.75", "100.00", 4),
    ("DE", "Germany", "DHL", "7.95", "0.75", "100.00", 4),
    ("NL", "Netherlands", "PostNL", "7.95", "0.75", "100.00", 4),
    ("BE", "Belgium", "bpost", "7.95", "0.75", "100.00", 4),
    ("ES", "Spain", "Correos", "8.95", "1.00", "100.00", 5),
    ("IT", "Italy", "Poste Italiane", "8.95", "1.00", "100.00", 5),
    ("US", "United States", "UPS", "14.95", "1.50", "100.00", 7),
    ("CA", "Canada", "Canada Post", "14.95", "1.50", "100.00", 8),
]


def add_default_rates(apps, schema_editor):
    ShippingRate = apps.get_model("shipping", "ShippingRate")
    for country, name, carrier, base, per_item, free_over, days in DEFAULT_RATES:
        ShippingRate.objects.get_or_create(
            country=country,
            defaults={
                "country_name": name,
                "carrier": carrier,
                "base_cost": Decimal(base),
                "per_item_cost": Decimal(per_item),
                "free_over": Decimal(free_over),
                "estimated_days": days,
            },
        )


def remove_default_rates(apps, schema_editor):
    ShippingRate = apps.get_model("shipping", "ShippingRate")
    ShippingRate.objects.filter(country__in=[rate[0] for rate in DEFAULT_RATES]).delete()


class Migration(migrations.Migration):
    dependencies = [("shipping", "0001_initial")]

    operations = [migrations.RunPython(add_default_rates, remove_default_rates)]
