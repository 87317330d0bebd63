"""Demo catalogue: a few categories and two dozen products. Idempotent."""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from catalogue.models import Category, Product
from catalogue.services import product_create

CATALOGUE = {
    "Tea": [
        ("TEA-SENCHA", "Sencha green tea, 100 g", "9.50", 40),
        ("TEA-ASSAM", "Assam black tea, 250 g", "12.00", 35),
        ("TEA-MINT", "Moroccan mint tea, 100 g", "7.80", 60),
        ("TEA-EARL", "Earl Grey, 100 g", "8.20", 25),
        ("TEA-ROOIBOS", "Rooibos, 100 g", "6.90", 30),
        ("TEA-OOLONG", "Milk oolong, 50 g", "14.50", 12),
    ],
    "Coffee": [
        ("COF-ETHIO", "Yirgacheffe beans, 250 g", "11.90", 45),
        ("COF-COLOM", "Colombian beans, 1 kg", "32.00", 18),
        ("COF-ESPR", "Espresso blend, 500 g", "16.40", 50),
        ("COF-DECAF", "Decaf Swiss water, 250 g", "10.50", 20),
        ("COF-GROUND", "House blend, ground, 250 g", "8.90", 70),
    ],
    "Pantry": [
        ("PAN-SAFFRON", "Saffron threads, 1 g", "9.90", 15),
        ("PAN-DATES", "Medjool dates, 500 g", "13.50", 40),
        ("PAN-HONEY", "Thyme honey, 450 g", "15.00", 22),
        ("PAN-ARGAN", "Culinary argan oil, 250 ml", "24.00", 10),
        ("PAN-HARISSA", "Rose harissa, 170 g", "5.40", 55),
        ("PAN-COUSCOUS", "Wholewheat couscous, 1 kg", "4.20", 80),
    ],
    "Kitchenware": [
        ("KIT-TEAPOT", "Brass teapot, 1 l", "39.00", 8),
        ("KIT-GLASSES", "Tea glasses, set of 6", "18.00", 16),
        ("KIT-TAGINE", "Clay tagine, 30 cm", "45.00", 6),
        ("KIT-GRINDER", "Burr coffee grinder", "89.00", 5),
        ("KIT-KETTLE", "Gooseneck kettle", "54.00", 9),
        ("KIT-TRAY", "Engraved serving tray", "27.50", 0),
        ("KIT-SIEVE", "Fine tea sieve", "4.50", 100),
    ],
}


class Command(BaseCommand):
    help = "Create the demo categories and products that are missing (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        with transaction.atomic():
            for category_name, products in CATALOGUE.items():
                category, _ = Category.objects.get_or_create(
                    slug=category_name.lower(), defaults={"name": category_name}
                )
                for sku, name, price, stock in products:
                    if Product.objects.filter(sku=sku).exists():
                        continue
                    product_create(
                        data={
                            "sku": sku,
                            "name": name,
                            "description": f"{name}, from the Souk demo catalogue.",
                            "price": Decimal(price),
                            "stock": stock,
                            "category": category,
                        }
                    )
                    created += 1
        total = Product.objects.count()
        self.stdout.write(f"demo catalogue: {created} product(s) created, {total} in all")
