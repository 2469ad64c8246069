"""Seed a database with many realistic closed handovers and their receipts, for the
lookup benchmark: Russian names, addresses and phones, a few discrepancies.

The rows go straight into the tables (the search triggers and indexes keep up as
they would in production); the receipts' PDFs are short placeholders, not signed
documents, since lookups never read them.

    python bench/seed.py DATABASE_URL [--rows 1000000]
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from webapp.db_types import now_utc
from webapp.domain.declared import FACTS
from webapp.domain.facts import example_values
from webapp.domain.search import searchable_text
from webapp.domain.terms import DiscrepancyStatus, HandoverStatus, Role
from webapp.models import Discrepancy, Handover, Receipt, User, table_values

SURNAMES = """Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров
Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев
Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин
Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов
Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов
Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин
Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов
Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров""".split()
MALE_NAMES = """Александр Алексей Андрей Антон Артём Борис Вадим Валентин Валерий Василий Виктор
Виталий Владимир Владислав Вячеслав Геннадий Георгий Григорий Даниил Денис Дмитрий Евгений
Егор Иван Игорь Илья Кирилл Константин Леонид Максим Михаил Никита Николай Олег Павел Пётр
Роман Руслан Сергей Станислав Степан Тимофей Фёдор Юрий Ярослав""".split()
FEMALE_NAMES = """Александра Алина Алла Анастасия Анна Валентина Валерия Вера Вероника Виктория
Галина Дарья Диана Ева Екатерина Елена Елизавета Жанна Зинаида Злата Инна Ирина Карина Кира
Ксения Лариса Лидия Любовь Людмила Маргарита Марина Мария Надежда Наталья Нина Оксана Ольга
Полина Раиса Светлана София Тамара Татьяна Ульяна Юлия Яна""".split()
PATRONYMIC_ROOTS = """Александров Алексеев Андреев Борисов Васильев Викторов Владимиров Геннадьев
Дмитриев Евгеньев Иванов Игорев Константинов Михайлов Николаев Олегов Павлов Петров Сергеев
Юрьев""".split()
CITIES = """Москва Санкт-Петербург Новосибирск Екатеринбург Казань Нижний_Новгород Челябинск
Самара Омск Ростов-на-Дону Уфа Красноярск Воронеж Пермь Волгоград Краснодар Саратов Тюмень
Тольятти Ижевск Барнаул Ульяновск Иркутск Хабаровск Ярославль Владивосток Махачкала Томск
Оренбург Кемерово""".replace("_", " ").split()
STREETS = """Ленина Мира Советская Гагарина Пушкина Кирова Молодёжная Школьная Садовая Лесная
Набережная Октябрьская Центральная Новая Заречная Комсомольская Первомайская Чапаева Лермонтова
Горького Строителей Победы Полевая Маяковского Юбилейная Калинина Чехова Луговая Свердлова
Рабочая Зелёная Титова Фрунзе Жукова Суворова Кутузова Менделеева Королёва Островского
Дзержинского Куйбышева Толстого Гоголя Некрасова Шевченко Энгельса Ломоносова Крупской
Московская Карла_Маркса""".replace("_", " ").split()
STREET_KINDS = ("ул.", "ул.", "ул.", "пр-т", "пер.", "б-р")
TARIFFS = (("Домашний 100", 45000), ("Домашний 300", 55000), ("Домашний 500", 65000),
           ("Семейный", 89000), ("Игровой 1000", 99000))
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
BATCH = 5_000


def migrate_empty(engine: sa.Engine) -> None:
    """Empty the database (on PostgreSQL, its public schema; a SQLite file is new) and
    migrate it to the newest schema. Call inside the app's context."""
    from flask_migrate import upgrade

    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    upgrade()


def person(rng: random.Random) -> str:
    surname = rng.choice(SURNAMES)
    root = rng.choice(PATRONYMIC_ROOTS)
    if rng.random() < 0.5:
        return f"{surname} {rng.choice(MALE_NAMES)} {root}ич"
    feminine = surname[:-1] + "ва" if surname.endswith("й") else surname + "а"
    return f"{feminine} {rng.choice(FEMALE_NAMES)} {root}на"


def address(rng: random.Random) -> str:
    kind, street = rng.choice(STREET_KINDS), rng.choice(STREETS)
    house, flat = rng.randint(1, 150), rng.randint(1, 300)
    return f"г. {rng.choice(CITIES)}, {kind} {street}, д. {house}, кв. {flat}"


def receipt_number(n: int) -> str:
    digits = []
    for _ in range(8):
        n, d = divmod(n, len(ALPHABET))
        digits.append(ALPHABET[d])
    text = "".join(digits)
    return f"HO-{text[:4]}-{text[4:]}"


def handover_rows(
    start: int, count: int, technicians: list[int], rng: random.Random
) -> Iterator[dict]:
    now = now_utc()
    for n in range(start, start + count):
        name, place = person(rng), address(rng)
        tariff, fee = rng.choice(TARIFFS)
        created = now - timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
        facts = example_values(FACTS) | {
            "order_number": f"ORD-{n}",
            "account_number": f"{5_000_000_000 + n}",
            "contract_number": f"Д-{n}/2026",
            "subscriber_name": name,
            "phone": f"+79{100_000_000 + n * 7 % 900_000_000:09d}",
            "address": place,
            "services": ["internet", "tv"] if n % 3 else ["internet"],
            "tariff_name": tariff,
            "monthly_fee": Decimal(fee) / 100,
            "billing_method": "credit" if n % 4 else "advance",
            "portal_login": f"lk-{n}",
        }
        yield table_values(facts) | {
            "id": n,
            "public_id": f"seed{n:012d}",
            "technician_id": technicians[n % len(technicians)],
            "status": HandoverStatus.CLOSED,
            "facts_version": 1,
            "row_version": 1,
            "created_at": created,
            "updated_at": created,
            "closed_at": created + timedelta(hours=1),
            "subscriber_signed_at": created + timedelta(minutes=50),
            "subscriber_locale": "ru",
            "search_text": searchable_text(name, place),
        }


def seed(engine: sa.Engine, rows: int, *, seed_value: int = 2026, progress=None) -> None:
    """Add `rows` closed handovers with receipts (and a discrepancy in one of ten)."""
    rng = random.Random(seed_value)
    with engine.begin() as connection:
        first = (connection.scalar(sa.select(sa.func.max(Handover.id))) or 0) + 1
        technicians = list(connection.scalars(
            sa.select(User.id).where(User.role == Role.TECHNICIAN)
        ))
        if not technicians:
            connection.execute(sa.insert(User.__table__), [
                {"login": f"seed-tech-{i}", "password_hash": "!", "full_name": person(rng),
                 "role": Role.TECHNICIAN, "employee_id": f"T-{i:04d}", "active": True,
                 "created_at": now_utc()} for i in range(200)
            ])
            technicians = list(connection.scalars(
                sa.select(User.id).where(User.role == Role.TECHNICIAN)
            ))
    for start in range(first, first + rows, BATCH):
        count = min(BATCH, first + rows - start)
        batch = list(handover_rows(start, count, technicians, rng))
        with engine.begin() as connection:
            connection.execute(sa.insert(Handover.__table__), batch)
            connection.execute(sa.insert(Receipt.__table__), [
                {"handover_id": r["id"], "number": receipt_number(r["id"]), "code_hash": "0" * 64,
                 "locale": "ru", "pdf": b"%PDF-seed " + str(r["id"]).encode(),
                 "sha256": f"{r['id']:064x}", "issued_at": r["closed_at"], "timestamped": False}
                for r in batch
            ])
            disputed = [r for r in batch if r["id"] % 10 == 0]
            if disputed:
                connection.execute(sa.insert(Discrepancy.__table__), [
                    {"handover_id": r["id"], "item": "discounts", "source": "subscriber",
                     "recorded": {"discounts": []}, "stated": {"comment": "Обещали скидку"},
                     "status": DiscrepancyStatus.OPEN, "created_at": r["closed_at"]}
                    for r in disputed
                ])
        if progress:
            progress(start + count - first)
    # As after a bulk load in production: statistics gathered, and the search
    # indexes compacted (GIN's pending list merged; FTS5's segments merged).
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
            # Seeded ids were given explicitly: move the sequences past them.
            for table in ("handovers", "receipts", "discrepancies"):
                connection.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                ))
    else:
        with engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO handover_search(handover_search) VALUES ('optimize')")
            )
            connection.execute(sa.text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--rows", type=int, default=1_000_000)
    arguments = parser.parse_args()
    engine = sa.create_engine(arguments.database_url)
    seed(engine, arguments.rows, progress=lambda done: print(f"\r{done:,} rows", end=""))
    print()


if __name__ == "__main__":
    main()
