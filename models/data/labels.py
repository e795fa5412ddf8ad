"""The 16 RVL-CDIP classes; the tuple index is the label id used everywhere."""

CLASSES: tuple[str, ...] = (
    "letter",
    "form",
    "email",
    "handwritten",
    "advertisement",
    "scientific_report",
    "scientific_publication",
    "specification",
    "file_folder",
    "news_article",
    "budget",
    "invoice",
    "presentation",
    "questionnaire",
    "resume",
    "memo",
)
CLASS_TO_ID: dict[str, int] = {name: i for i, name in enumerate(CLASSES)}
