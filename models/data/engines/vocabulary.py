"""What the document engines draw from alike: the font families fontconfig finds (for
WeasyPrint and LibreOffice both) and the wording of survey questions. One list each, so the HTML
and office pages of a class share one description of it."""

from __future__ import annotations

# Families on a machine with `make sysdeps` (fc-list : family).
SANS = (
    "Liberation Sans",
    "Carlito",
    "Open Sans",
    "Lato",
    "Roboto",
    "DejaVu Sans",
    "Cantarell",
    "Linux Biolinum O",
    "Nimbus Sans",
    "URW Gothic",
    "FreeSans",
)
CONDENSED = (
    "Roboto Condensed",
    "Liberation Sans Narrow",
    "Open Sans Condensed",
)
SERIF = (
    "Liberation Serif",
    "Caladea",
    "Linux Libertine O",
    "EB Garamond",
    "DejaVu Serif",
    "P052",
    "Nimbus Roman",
    "C059",
    "FreeSerif",
    "URW Bookman",
)
MONO = (
    "Liberation Mono",
    "DejaVu Sans Mono",
    "Noto Mono",
    "Nimbus Mono PS",
    "FreeMono",
)
# Handwriting faces: handwritten notes, signatures, flyer accents.
HAND = (
    "Breip",
    "DkgHandwriting",
    "femkeklaver",
    "Comic Neue",
    "Humor Sans",
    "Delphine",
    "Steve",
    "Rufscript",
)

# Answer scales and statements of satisfaction and feedback questionnaires.
SCALES = (
    ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"),
    ("Very poor", "Poor", "Fair", "Good", "Excellent"),
    ("Never", "Rarely", "Sometimes", "Often", "Always"),
    ("1", "2", "3", "4", "5"),
)
SURVEY_ITEMS = (
    "The information I received was clear and easy to understand.",
    "Staff were friendly and helpful.",
    "I was able to get an appointment at a convenient time.",
    "The online booking system was easy to use.",
    "My questions were answered promptly.",
    "The facilities were clean and well maintained.",
    "I would recommend this service to a friend or colleague.",
    "The training content was relevant to my work.",
    "The pace of the session was appropriate.",
    "I feel valued for the work I do.",
    "I have the tools I need to do my job well.",
    "Communication between teams is effective.",
    "The product met my expectations.",
    "The price represents good value for money.",
    "Delivery arrived on the date promised.",
    "The information I needed was easy to find.",
    "Staff responded quickly to my request.",
    "The documentation was clear and complete.",
    "I would recommend this service.",
    "The price was fair for the quality provided.",
    "The process took a reasonable time.",
    "My questions were answered in full.",
    "The website was easy to use.",
    "The training met my expectations.",
    "I felt my feedback was taken seriously.",
    "The facilities were clean and accessible.",
    "The schedule suited my needs.",
)
