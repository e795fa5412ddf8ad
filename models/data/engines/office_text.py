"""Text for the office and sheet templates: real prose from models.data.prose for body text, and
short modern business vocabulary (products, services, requirements, survey items) of our own."""

from __future__ import annotations

import random
import re

from faker import Faker

from models.data import register

FAKER_SOURCE = "faker"
FAKER_LICENCE = "MIT (Faker, generated)"


def passage(
    rng: random.Random, label: str, min_words: int, topic: str | None
) -> tuple[str, list[str], str, str]:
    """(title, paragraphs, source, licence) of a body in the register of `label`."""
    found = register.passage(rng, label, min_words=min_words, topic=topic)
    return found.title, list(found.paragraphs), found.source, found.licence


def sentences(rng: random.Random, label: str, n: int) -> tuple[list[str], str, str]:
    """n sentences of one passage (a passage, not prose.sentences, so the source is known)."""
    _, paragraphs, source, licence = passage(rng, label, max(40, n * 22), None)
    found = [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if s]
    return found[:n], source, licence


_fakers: dict[str, Faker] = {}


def faker(rng: random.Random) -> Faker:
    """A Faker for one of the English locales, reseeded from rng (building one is slow, so one
    instance per locale is kept)."""
    locale = rng.choice(("en_US", "en_US", "en_US", "en_GB", "en_CA", "en_AU"))
    if locale not in _fakers:
        _fakers[locale] = Faker(locale)
    fake = _fakers[locale]
    fake.seed_instance(rng.getrandbits(32))
    return fake


SERVICES = (
    "Consulting services",
    "Website maintenance (monthly)",
    "Cloud hosting - standard plan",
    "On-site installation",
    "Software licence renewal",
    "Graphic design - brochure",
    "Data migration",
    "Staff training workshop",
    "Quarterly audit review",
    "Network security assessment",
    "Copywriting - product pages",
    "Logo redesign",
    "Equipment rental",
    "Technical support (hours)",
    "Photography session",
    "Project management",
    "Travel expenses",
    "Catering for 40 guests",
)
PRODUCTS = (
    "Ergonomic office chair",
    "27-inch LED monitor",
    "Wireless keyboard and mouse",
    "USB-C docking station",
    "Laser printer toner, black",
    "A4 copy paper, 5 reams",
    "Standing desk frame",
    "Noise-cancelling headset",
    "External SSD 1 TB",
    "Conference speakerphone",
    "Whiteboard 120 x 90 cm",
    "Laptop backpack",
    "Label printer",
    "HDMI cable 2 m",
    "Stainless water bottles",
    "Safety helmet, white",
    "LED panel light 600 x 600",
    "Coffee beans 1 kg",
)
COMPONENTS = (
    "control unit",
    "power supply",
    "enclosure",
    "sensor module",
    "user interface",
    "firmware",
    "mounting bracket",
    "communication interface",
    "battery pack",
    "display",
    "cable harness",
    "software application",
    "data logger",
    "cooling fan",
)
SHALL = (
    "operate within an ambient temperature range of {a} to {b} °C",
    "withstand a drop of {a} cm onto concrete without loss of function",
    "draw no more than {a} W in standby mode",
    "report faults to the host within {a} ms of detection",
    "be protected against ingress of dust and water to IP{a}",
    "retain configuration data after a power loss of {a} hours",
    "complete start-up in less than {a} seconds",
    "support at least {a} simultaneous user sessions",
    "weigh no more than {a} kg including accessories",
    "log every change of state with a time stamp",
    "comply with the electromagnetic compatibility limits of Class {c}",
    "be serviceable with standard tools only",
    "provide an accuracy of ±{a}% over the full measuring range",
    "encrypt all stored personal data",
)
VERIFY = ("Test", "Inspection", "Analysis", "Demonstration")
FORM_TITLES = (
    "Employee Information Form",
    "Change of Address Request",
    "Vendor Registration Form",
    "Leave Request Form",
    "Incident Report Form",
    "Expense Reimbursement Request",
    "New Patient Registration",
    "Membership Application",
    "Equipment Loan Agreement",
    "Volunteer Application Form",
    "Direct Deposit Authorization",
    "Event Registration Form",
)
SURVEY_TITLES = (
    "Customer Satisfaction Survey",
    "Employee Engagement Questionnaire",
    "Course Evaluation",
    "Patient Experience Survey",
    "Event Feedback Form",
    "Health and Lifestyle Questionnaire",
    "Remote Work Survey",
    "Product Feedback Questionnaire",
)
SKILLS = (
    "Python",
    "SQL",
    "Project management",
    "Stakeholder communication",
    "Data analysis",
    "Excel",
    "Budgeting",
    "Agile / Scrum",
    "Customer service",
    "Public speaking",
    "Adobe InDesign",
    "Negotiation",
    "Team leadership",
    "Salesforce",
    "Technical writing",
    "Java",
    "Power BI",
    "Spanish (fluent)",
    "French (conversational)",
    "Risk assessment",
)
DEGREES = (
    "B.Sc. Computer Science",
    "B.A. Economics",
    "MBA",
    "M.Sc. Data Science",
    "B.Eng. Mechanical Engineering",
    "B.A. Communications",
    "M.A. Public Policy",
    "B.Sc. Nursing",
    "B.Com. Accounting",
)
ACHIEVE = (
    "Led a team of {n} to {bs}, cutting turnaround time by {p}%",
    "Introduced a process to {bs}, saving ${k}k a year",
    "Managed a portfolio of {n} client accounts worth ${k}k",
    "Designed and rolled out tools to {bs}",
    "Reduced support tickets by {p}% by working to {bs}",
    "Trained {n} new colleagues and wrote the onboarding guide",
    "Delivered {n} projects on time and within budget",
    "Partnered with sales to {bs}, growing revenue {p}%",
)
PRODUCT_LINES = (
    "Falcon",
    "Orion",
    "Nova",
    "Atlas",
    "Vega",
    "Titan",
    "Aurora",
    "Helix",
    "Summit",
    "Pulse",
)
FIELDS = (
    "Materials Science",
    "Environmental Studies",
    "Applied Physics",
    "Computer Science",
    "Public Health",
    "Energy Systems",
    "Biomedical Engineering",
    "Transport Research",
    "Data Science",
)
