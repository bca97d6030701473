"""Settings of what is read and how it is placed: gathering, the sources, the sections."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.settings.declare import setting


@dataclass(frozen=True)
class GatherSettings:
    timeout: float = setting(20.0, "Seconds allowed for one HTTP request, body included, before it is abandoned.")
    concurrency: int = setting(64, "Requests in flight at the same time, across all hosts.")
    per_host: int = setting(2, "Requests in flight at the same time to one host (politeness).")
    max_bytes: int = setting(10_000_000, "Largest response, document or OPML file read, in bytes (after gzip).")
    user_agent: str = setting(
        "newsletter/0.1 (+https://github.com/newsletter)", "User-Agent sent with every request."
    )
    warn_after_hours: float = setting(
        48.0, "A source failing for longer than this is reported loudly by every gather, send and sources list."
    )


@dataclass(frozen=True)
class SourceSettings:
    url: str | None = setting(None, "Address of an RSS/Atom feed (http, https or file).")
    path: str | None = setting(
        None, "A feed file, or a folder of briefing documents (.txt .md), relative to the config."
    )
    section: str | None = setting(None, "Put every item of this source in this section.")
    name: str | None = setting(None, "Display name; defaults to the feed's title or the folder name.")
    kind: str | None = setting(
        None, "What the source is: feed (RSS/Atom), json (JSON Feed), page (one article on a web page) "
        "or documents (a folder); empty: detected from the content."
    )

    @property
    def key(self) -> str:
        """Return the identity of this source in the store."""
        return self.url or f"path:{self.path}"


@dataclass(frozen=True)
class SectionSettings:
    name: str = setting("", "Section heading, e.g. a country or topic.")
    keywords: list[str] = setting([], "Words that place an item here (whole words, any case, with endings).")
    aliases: list[str] = setting([], "Other names an inline heading may use for this section.")
    place: bool = setting(
        False, "The section is about a place (a country, a region) rather than a topic: a story whose "
        "headline names it goes here before any topic section (\"Russia bans wheat imports\" to Russia, not Economy)."
    )
    formerly: list[str] = setting(
        [], "Names this section had before a rename: readers who chose one still get it "
        "(`newsletter subscribers check` lists readers whose sections match no name)."
    )
    titles: dict[str, str] = setting(
        {}, "The heading in other languages, by language tag: titles = { ru = \"Россия\", kk = \"Ресей\" }; "
        "a language not listed gets the name."
    )
    intro: str = setting("", "Optional line shown under the section heading.")
    limit: int = setting(0, "Most items shown in this section (0: no limit); the rest wait for the next issue.")
    hide_when_empty: bool = setting(True, "Leave the section out of an issue that has nothing for it.")
    empty_text: str = setting(
        "Nothing new this week.", "Line shown in a section with no items when hide_when_empty is false."
    )
