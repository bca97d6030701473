"""Each reader's local hour: ``schedule.first_at`` across zones, midnight and both daylight-saving changes.

The rule (RFC 5545's): a time the clocks skip is read with the offset from before the jump
(02:30 on a spring-forward night comes at 03:30); a time the clocks show twice is its first
showing, or its second once the first has passed.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsletter.config import load
from newsletter.error import ConfigError
from newsletter.schedule import first_at, local_time

ALMATY, LONDON, NEW_YORK = ZoneInfo("Asia/Almaty"), ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
SEVEN = time(7, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_local_time_reads_a_24_hour_time_and_names_the_key_of_a_bad_one() -> None:
    assert local_time("07:00") == SEVEN and local_time("7:05") == time(7, 5) and local_time("23:59") == time(23, 59)
    assert local_time("") is None
    for bad in ("24:00", "07:60", "7", "7am", "07:00:00", " 07:00", "٠٧:٠٠"):
        with pytest.raises(ConfigError, match=r'schedule.local_time: expected a 24-hour time like "07:00"'):
            local_time(bad)


def test_a_bad_local_time_in_the_config_names_the_file_line_and_key(newsletter_dir: Path) -> None:
    config = newsletter_dir / "newsletter.toml"
    config.write_text(config.read_text() + '\n[schedule]\nlocal_time = "7 am"\n')
    line = config.read_text().splitlines().index('local_time = "7 am"') + 1
    with pytest.raises(ConfigError) as caught:
        load(config, environ={})
    assert str(caught.value) == (f'{config}:{line}: schedule.local_time: expected a 24-hour time like "07:00" '
                                 "(or \"\" for none), got '7 am'")


def test_one_moment_falls_due_at_seven_on_each_readers_own_clock() -> None:
    queued = utc(2026, 12, 6, 1, 30)  # 06:30 in Almaty, 01:30 in London, 20:30 the day before in New York
    assert first_at(queued, SEVEN, ALMATY) == utc(2026, 12, 6, 2, 0)  # 07:00 +05, half an hour on
    assert first_at(queued, SEVEN, LONDON) == utc(2026, 12, 6, 7, 0)
    assert first_at(queued, SEVEN, NEW_YORK) == utc(2026, 12, 6, 12, 0)  # New York's next morning is the 6th too


def test_the_hour_itself_is_due_and_a_second_past_it_waits_a_day() -> None:
    seven = datetime(2026, 12, 6, 7, 0, tzinfo=ALMATY)
    assert first_at(seven, SEVEN, ALMATY) == seven
    assert first_at(seven + timedelta(seconds=1), SEVEN, ALMATY) == seven + timedelta(days=1)


def test_midnight_is_the_start_of_the_next_local_day() -> None:
    midnight = time(0, 0)
    before = datetime(2026, 12, 6, 23, 59, 59, tzinfo=ALMATY)  # 18:59:59 UTC: the UTC date is not the local one
    assert first_at(before, midnight, ALMATY) == datetime(2026, 12, 7, tzinfo=ALMATY) == utc(2026, 12, 6, 19, 0)
    assert first_at(datetime(2026, 12, 7, tzinfo=ALMATY), midnight, ALMATY) == utc(2026, 12, 6, 19, 0)
    assert first_at(utc(2026, 12, 6, 19, 0, 1), midnight, ALMATY) == utc(2026, 12, 7, 19, 0)
    # 23:30 in New York on the 5th is the 6th in UTC; its midnight is 05:00 UTC on the 6th.
    assert first_at(utc(2026, 12, 6, 4, 30), midnight, NEW_YORK) == utc(2026, 12, 6, 5, 0)


def test_a_time_the_clocks_skip_in_spring_comes_as_long_after_the_jump() -> None:
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 never shows; it is read as 02:30 EST.
    due = first_at(datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK), time(2, 30), NEW_YORK)
    assert due == utc(2026, 3, 8, 7, 30) and due.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"
    # London, 29 March 2026: 01:00 GMT jumps to 02:00 BST; 01:30 comes at 02:30 BST.
    assert first_at(utc(2026, 3, 29, 0, 0), time(1, 30), LONDON) == utc(2026, 3, 29, 1, 30)
    # Seven o'clock is untouched by the jump: 07:00 EDT, one hour earlier in UTC than the day before.
    assert first_at(utc(2026, 3, 7, 13, 0), SEVEN, NEW_YORK) == utc(2026, 3, 8, 11, 0)


def test_a_time_the_clocks_show_twice_in_autumn_is_the_first_showing_until_it_has_passed() -> None:
    # New York, 1 November 2026: 02:00 EDT goes back to 01:00 EST, so 01:30 shows twice.
    half_past_one = time(1, 30)
    assert first_at(utc(2026, 11, 1, 4, 0), half_past_one, NEW_YORK) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert first_at(utc(2026, 11, 1, 5, 45), half_past_one, NEW_YORK) == utc(2026, 11, 1, 6, 30)  # 01:30 EST
    assert first_at(utc(2026, 11, 1, 6, 45), half_past_one, NEW_YORK) == utc(2026, 11, 2, 6, 30)  # the next day
    # London, 25 October 2026: 02:00 BST goes back to 01:00 GMT.
    assert first_at(utc(2026, 10, 24, 23, 0), half_past_one, LONDON) == utc(2026, 10, 25, 0, 30)  # 01:30 BST


ZONES = [ALMATY, LONDON, NEW_YORK, ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")]


@settings(max_examples=300, deadline=1000)
@given(moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
       zone=st.sampled_from(ZONES), hour=st.integers(0, 23), minute=st.sampled_from([0, 1, 15, 30, 45, 59]))
def test_first_at_is_the_first_showing_not_earlier_than_the_moment(moment: datetime, zone: ZoneInfo, hour: int,
                                                                   minute: int) -> None:
    at = time(hour, minute)
    due = first_at(moment, at, zone)
    assert moment <= due < moment + timedelta(hours=49)
    shown_then = due.astimezone(zone).time()
    if shown_then != at:  # only a time the clocks skipped is moved, and forward by the jump (at most an hour)
        wall = datetime.combine(due.astimezone(zone).date(), at)
        assert wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall
        day = datetime(2000, 1, 1)
        moved = (datetime.combine(day, shown_then) - datetime.combine(day, at)) % timedelta(days=1)
        assert timedelta(0) < moved <= timedelta(hours=1)
    # No earlier showing of ``at`` in [moment, due). Offsets are whole quarter hours, so ``at`` can
    # only show at UTC minutes congruent to its own modulo 15: look at every one of those.
    step = moment.replace(minute=moment.minute - moment.minute % 15 + minute % 15, second=0, microsecond=0)
    while step < due:
        assert step < moment or step.astimezone(zone).time() != at, f"{at} showed at {step} in {zone}, before {due}"
        step += timedelta(minutes=15)
