"""Page content: Faker in several locales for people, firms and places, plus the genre templates
of vocab.py for prose. Everything is drawn from per-page seeded generators (determinism)."""

from __future__ import annotations

import functools
import random
import re

from faker import Faker

from models.data.vocab import SLOTS, TEMPLATES

# Mostly English (the tokenizer and most real pages are English) with European variety.
LOCALES: tuple[tuple[str, float], ...] = (
    ("en_US", 0.55),
    ("en_GB", 0.12),
    ("en_CA", 0.05),
    ("en_AU", 0.04),
    ("en_IE", 0.03),
    ("de_DE", 0.06),
    ("fr_FR", 0.05),
    ("es_ES", 0.04),
    ("it_IT", 0.03),
    ("nl_NL", 0.03),
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_SLOT = re.compile(r"\{(\w+)\}")


@functools.cache
def _faker(locale: str) -> Faker:
    fake = Faker(locale)  # building a Faker is slow: once per locale and process
    for provider in fake.get_providers():
        # it_IT builds its city list from a set, whose order follows PYTHONHASHSEED: sort it,
        # or the same seed gives other pages in another process.
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)
    return fake


class Content:
    """Seeded source of names, numbers, dates and genre prose for one page."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.locale = rng.choices([loc for loc, _ in LOCALES], [w for _, w in LOCALES])[0]
        self.fake = _faker(self.locale)
        self.fake.seed_instance(rng.getrandbits(63))
        self.english = _faker("en_US")
        self.english.seed_instance(rng.getrandbits(63))
        self.date_style = rng.randrange(6)
        self.money_symbol = {
            "en_GB": "£",
            "en_IE": "€",
            "de_DE": "€",
            "fr_FR": "€",
            "es_ES": "€",
            "it_IT": "€",
            "nl_NL": "€",
        }.get(self.locale, "$")
        self.year_base = rng.randint(1982, 2024)

    # -- people, firms, places ---------------------------------------------------------------
    def name(self) -> str:
        return f"{self.fake.first_name()} {self.fake.last_name()}"

    def company(self) -> str:
        return str(self.fake.company())

    def city(self) -> str:
        return str(self.fake.city())

    def address_lines(self) -> list[str]:
        return [line.strip() for line in str(self.fake.address()).split("\n") if line.strip()]

    def phone(self) -> str:
        return str(self.fake.phone_number())

    def email(self, name: str | None = None) -> str:
        who = (name or self.name()).lower()
        user = re.sub(r"[^a-z]+", ".", who).strip(".") or "info"
        return f"{user}@{self.english.domain_name()}"

    def job(self) -> str:
        return str(self.english.job()).split(",")[0]

    def product(self) -> str:
        base = self.rng.choice(
            [self.fake.last_name(), self.english.word().title(), self.english.color_name()]
        )
        return f"{base} {self.pick('product_line')}"

    # -- numbers and dates -------------------------------------------------------------------
    def year(self) -> int:
        return self.year_base + self.rng.randint(-2, 1)

    def date(self) -> str:
        y, m, d = self.year(), self.rng.randint(1, 12), self.rng.randint(1, 28)
        style = self.date_style if self.rng.random() < 0.8 else self.rng.randrange(6)
        return (
            f"{MONTHS[m - 1]} {d}, {y}",
            f"{d} {MONTHS[m - 1]} {y}",
            f"{m}/{d}/{y % 100:02d}",
            f"{d:02d}.{m:02d}.{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{MONTHS[m - 1][:3]}. {d}, {y}",
        )[style]

    def number(self, lo: int = 2, hi: int = 60) -> int:
        return self.rng.randint(lo, hi)

    def amount(self, lo: float = 10, hi: float = 50000) -> float:
        return round(10 ** self.rng.uniform(_log10(lo), _log10(hi)), 2)

    def money(self, value: float | None = None) -> str:
        v = self.amount() if value is None else value
        return f"{self.money_symbol}{v:,.2f}"

    def code(self, pattern: str = "??-####") -> str:
        """Identifier like AB-1234 ('?' letter, '#' digit)."""
        return "".join(
            self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
            if c == "?"
            else str(self.rng.randrange(10))
            if c == "#"
            else c
            for c in pattern
        )

    # -- prose ----------------------------------------------------------------------------------
    def pick(self, slot: str) -> str:
        return self.rng.choice(SLOTS[slot])

    def fill(self, template: str) -> str:
        return _SLOT.sub(lambda m: self._slot(m.group(1)), template)

    def _slot(self, key: str) -> str:
        if key in SLOTS:
            return self.pick(key)
        simple = {
            "name": self.name,
            "company": self.company,
            "city": self.city,
            "date": self.date,
            "phone": self.phone,
            "product": self.product,
            "money": lambda: self.money(),
            "number": lambda: str(self.number()),
            "percent": lambda: f"{self.rng.randint(2, 45)}%",
            "year": lambda: str(self.year()),
            "decimal": lambda: f"{self.rng.uniform(0.1, 99):.2f}",
            "weekday": lambda: self.rng.choice(WEEKDAYS),
        }
        return simple[key]()

    def sentence(self, genre: str) -> str:
        """A genre sentence, or now and then plain English filler so no template dominates."""
        if self.rng.random() < 0.25:
            return str(self.english.sentence(nb_words=self.rng.randint(6, 16)))
        return self.fill(self.rng.choice(TEMPLATES[genre]))

    def paragraph(self, genre: str, sentences: int | None = None) -> str:
        n = sentences or self.rng.randint(2, 6)
        return " ".join(self.sentence(genre) for _ in range(n))

    def words(self, n: int) -> str:
        return " ".join(self.english.words(nb=n))

    def title(self, genre: str) -> str:
        r = self.rng
        if genre == "science":
            return headline(
                f"{self.pick('sci_title_lead')} "
                f"{self.pick('sci_noun')} {r.choice(['in', 'and', 'on', 'during'])} "
                f"{self.pick('sci_noun')}"
            )
        if genre == "news":
            topic = self.pick("news_topic").title()
            return f"{topic} {self.pick('news_verb')} {self.pick('biz_noun')} plan"
        return f"{self.pick('biz_noun').title()} {self.pick('biz_title_tail')}"


SMALL_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "in",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "during",
    }
)


def headline(text: str) -> str:
    """Title Case that leaves short function words lower case."""
    words = text.split()
    return " ".join(
        w if (i and w.lower() in SMALL_WORDS) else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def _log10(x: float) -> float:
    import math

    return math.log10(max(x, 1e-9))
