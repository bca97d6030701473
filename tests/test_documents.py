"""Briefing documents: the two shapes, boilerplate, stable uids; and the text helpers in item.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.gather.readers import document
from newsletter.item import Entry, html_to_text, summarise


def read(folder: Path, name: str) -> list[Entry]:
    return document.entries(folder / name, relative_to=folder)


def test_briefing_gives_one_entry_per_paragraph(documents: Path) -> None:
    entries = read(documents, "briefing.txt")
    assert [e.label for e in entries] == [None, "Russia", "China", "Oil", "Tajikistan", None]
    assert entries[0].body.startswith("Central Asia enters winter with steady energy revenues")
    assert entries[1].body.startswith("Moscow is pressing regional banks")  # heading not repeated in the text
    assert "China–Kyrgyzstan–Uzbekistan" in entries[2].body
    assert entries[5].body.startswith("The outlook for December is stable.")
    assert entries[5].title == "The outlook for December is stable."
    assert len({e.uid for e in entries}) == 6


def test_article_is_one_entry_without_boilerplate(documents: Path) -> None:
    [entry] = read(documents, "article.txt")
    assert entry.title == "Tashkent opens new rail link to the border"
    assert entry.label is None
    assert entry.summary.startswith("A 120-kilometre electrified line")
    assert entry.body.rstrip().endswith("financed by a loan from the Asian Development Bank.")
    assert "No comments yet" not in entry.body
    assert entry.body.count("\n\n") == 4  # standfirst and four body paragraphs


def test_markdown_briefing(documents: Path) -> None:
    entries = read(documents, "briefing.md")
    assert [e.label for e in entries] == [None, "Russia", "China", "Oil"]
    assert entries[0].body == (
        "Moscow and Beijing are competing for influence in Central Asia with very different tools."
    )
    assert entries[1].body.startswith("The Kremlin signed a migration protocol")
    assert not any("**" in e.body or "#" in e.body or "Weekly briefing" in e.body for e in entries)


def test_russian_article_keeps_cyrillic(documents: Path) -> None:
    [entry] = read(documents, "russian-article.txt")
    assert entry.title == "Казахстан и Азербайджан запустят новый паромный маршрут через Каспий"
    # Whole sentences until at least 40 words: here the whole article (37 words) is its summary.
    assert entry.summary.startswith("Первый паром между портами Курык и Алят выйдет в рейс в марте следующего года. ")
    assert entry.summary.endswith("нехватку судов и причалов на Каспии.")
    assert entry.body.endswith("Экспедиторы называют главной проблемой нехватку судов и причалов на Каспии.")
    assert "Комментариев" not in entry.body


def test_uids_are_stable(documents: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "briefing.txt").write_bytes((documents / "briefing.txt").read_bytes())
    for name in ["briefing.txt", "briefing.md", "article.txt"]:
        first = [e.uid for e in read(documents, name)]
        assert first == [e.uid for e in read(documents, name)]
    assert [e.uid for e in read(documents, "briefing.txt")] == [e.uid for e in read(other, "briefing.txt")]
    assert [e.uid for e in read(documents, "briefing.txt")][1] == "briefing.txt#russia"


def test_glued_boilerplate_is_removed(tmp_path: Path) -> None:
    (tmp_path / "glued.txt").write_text(
        "Ferry route to open in March\n"
        "Ports of Kuryk and Alat will be linked.\n"
        "The ministers signed the agreement in Baku.Комментариев пока нет\n",
        encoding="utf-8",
    )
    [entry] = read(tmp_path, "glued.txt")
    assert entry.body.endswith("signed the agreement in Baku.")
    assert "Комментариев" not in entry.body


def test_abbreviations_do_not_make_an_article_a_briefing(tmp_path: Path) -> None:
    (tmp_path / "visit.txt").write_text(
        "Envoys meet in Astana\n"
        "Mr. Smith went to Astana.\n"
        "Dr. Jones met him at the airport.\n"
        "They discussed the new rail link.\n",
        encoding="utf-8",
    )
    entries = read(tmp_path, "visit.txt")
    assert len(entries) == 1
    assert entries[0].title == "Envoys meet in Astana"
    assert entries[0].label is None
    assert "Mr. Smith went to Astana." in entries[0].body


def test_split_heading() -> None:
    assert document.split_heading("Central Asia. Talks resumed.") == ("Central Asia", "Talks resumed.")
    assert document.split_heading("Россия. Кремль промолчал.") == ("Россия", "Кремль промолчал.")
    assert document.split_heading("Mr. Smith went to Astana.") == (None, "Mr. Smith went to Astana.")
    assert document.split_heading("The outlook is stable. Watch budgets.")[0] is None


def test_summarise_ends_at_a_sentence() -> None:
    text = "Kazakhstan pumped a record amount of oil. The output is above its quota. " * 3
    assert summarise(text, 80) == "Kazakhstan pumped a record amount of oil. The output is above its quota."
    assert summarise("Short text.", 80) == "Short text."
    assert summarise('He said "Enough." Then he left the hall in silence.', 30) == 'He said "Enough."'


def test_summarise_never_cuts_mid_word() -> None:
    text = " ".join(["extraordinarily"] * 40)
    summary = summarise(text, 100)
    assert summary.endswith("…")
    assert len(summary) <= 101
    assert set(summary.rstrip("…").split()) == {"extraordinarily"}


def test_html_to_text() -> None:
    markup = (
        "<head><title>x</title></head><script>alert('no')</script><style>p {color: red}</style>"
        "<p>Tom &amp; Jerry write &amp;lt;b&amp;gt; as text.</p><p>Second&nbsp;paragraph</p>"
    )
    assert html_to_text(markup) == "Tom & Jerry write &lt;b&gt; as text.\n\nSecond paragraph"
    assert html_to_text("Plain & simple") == "Plain & simple"
    assert html_to_text("<b>Новый</b> маршрут") == "Новый маршрут"


LABELLED = Path(__file__).parent / "fixtures" / "labelled" / "documents"


@pytest.mark.parametrize(("name", "labels"), [
    ("2026-11-16-weekly-briefing.txt", [None, "Russia", "China", "Uzbekistan", "Oil", "Floods", "Legislation",
                                        "Ukraine", "Railways", "Crypto", None, None]),
    ("2026-11-17-obzor.md", [None, "Россия", "Китай", "Энергетика", "Выборы", "Таджикистан", "Безопасность",
                             "Торговля", None]),
    ("2026-11-18-sholu.html", [None, "Ресей", "Қытай", "Мұнай", "Өзбекстан", "Шекара", "Сайлау"]),
])
def test_briefings_in_three_languages_and_three_formats(name: str, labels: list[str | None]) -> None:
    entries = read(LABELLED, name)
    assert [e.label for e in entries] == labels
    assert entries[0].uid == f"{name}#opening" and document.is_opening(entries[0].uid)
    assert not any(document.is_opening(e.uid) for e in entries[1:])
    assert all(e.body and not e.body.startswith(f"{e.label}.") for e in entries)
    text = " ".join(e.body for e in entries)
    for furniture in ("Еженедельный обзор", "Апталық шолу", "Басты бет", "Барлық құқықтар", "Бөлісу", "**", "<"):
        assert furniture not in text
    assert all(e.published_at is not None and e.published_at.day == int(name[8:10]) for e in entries)


@pytest.mark.parametrize(("name", "title", "summary_start", "body_end"), [
    ("2026-11-15-neft-kaspiy.txt", "Казахстан и Азербайджан увеличат перевозки нефти через Каспий",
     "С января танкеры", "флот компании сейчас насчитывает всего семь судов."),
    ("2026-11-14-border-deal.md", "Kyrgyzstan and Tajikistan sign their last border protocol",
     "The two neighbours have agreed", "host a regional summit on water sharing next spring."),
    ("2026-11-13-zeynetaky.html", "Парламент зейнетақы туралы заң жобасын мақұлдады",
     "Мәжіліс депутаттары", "Сенат құжатты желтоқсан айында қарайды."),
    ("2026-11-12-uranium.html", "Kazatomprom lifts uranium output forecast",
     "The state uranium miner", "which have fallen by a fifth since January."),
])
def test_articles_in_three_languages_lose_site_boilerplate(name: str, title: str, summary_start: str,
                                                           body_end: str) -> None:
    [entry] = read(LABELLED, name)
    assert entry.title == title and entry.label is None
    assert entry.summary.startswith(summary_start)
    assert entry.body.endswith(body_end)
    for boilerplate in ("Поделиться", "Читайте также", "Комментариев", "10:42", "Share", "Related", "Rogun",
                        "Толығырақ", "Пікірлер", "Facebook", "Tags:", "cookies", "Most read", "Steppe Times", "©"):
        assert boilerplate not in entry.body, boilerplate


def test_an_edited_opening_keeps_its_uid(tmp_path: Path) -> None:
    path = tmp_path / "weekly.txt"
    path.write_text("The week was calm.\nRussia. Moscow said little.\nChina. Beijing said less.\n", encoding="utf-8")
    before = [e.uid for e in read(tmp_path, "weekly.txt")]
    path.write_text("The week was calm and cold.\nRussia. Moscow said little.\nChina. Beijing said less.\n",
                    encoding="utf-8")
    assert [e.uid for e in read(tmp_path, "weekly.txt")] == before == ["weekly.txt#opening", "weekly.txt#russia",
                                                                       "weekly.txt#china"]


@pytest.mark.parametrize("line", [
    "No comments yet", "Comments (12)", "Share on Facebook", "Facebook Twitter Telegram", "Read more",
    "We use cookies to improve your experience.", "© 2026 Example Media", "Tags: oil, gas", "Photo: Reuters",
    "Комментариев пока нет", "Поделиться", "Читайте также: Тенге укрепился", "Все права защищены",
    "Пікірлер жоқ", "Толығырақ", "Бөлісу", "Барлық құқықтар қорғалған", "20 ноября 2026, 14:35",
    "2026-11-20", "November 20, 2026",
])
def test_boilerplate_lines_are_removed(line: str) -> None:
    assert document.strip_boilerplate(["Headline here", "A real paragraph of news.", line]) == [
        "Headline here", "A real paragraph of news."]


@pytest.mark.parametrize("line", [
    "Share prices rose sharply on Monday.", "Comments by the minister surprised investors.",
    "Read more carefully, the report says the opposite of what the ministry claims it does.",
    "Photo: " + "x" * 120, "Поделиться опытом приехали инженеры из Китая.",
])
def test_news_lines_that_resemble_boilerplate_are_kept(line: str) -> None:
    assert document.strip_boilerplate(["Headline", line]) == ["Headline", line]


def test_a_related_articles_list_ends_the_article() -> None:
    blocks = ["Headline", "Standfirst.", "Body.", "Related articles", "Another story", "And another"]
    assert document.strip_boilerplate(blocks) == ["Headline", "Standfirst.", "Body."]
