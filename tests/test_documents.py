"""Briefing documents: the two shapes, boilerplate, stable uids; and the text helpers in item.py."""

from __future__ import annotations

from pathlib import Path

from newsletter import document
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
    assert entry.summary == "Первый паром между портами Курык и Алят выйдет в рейс в марте следующего года."
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
