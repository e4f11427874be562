"""The hospital-statistics formulas (`policies/statistics.py`, issue 13) on worked examples.

Each worked example names where its numbers come from; the expected figure is computed in the
test from the example's own numbers (and, where the source gives one, checked against its
rounded answer), never from the code under test. The definitions are Horton, *Calculating and
Reporting Healthcare Statistics* (AHIMA), chapters 3 (census), 4 (occupancy, turnover), 5 (length
of stay), 6 (mortality); CMS for the case mix index, GMLOS and the readmission exclusions.
Property tests (hypothesis) check the identities that must hold whatever the stays.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.statistics import (
    EXCLUDED_FROM_READMISSION,
    NEWBORNS,
    BedCount,
    Move,
    Period,
    PeriodProblem,
    Scope,
    Stay,
    average_bed_count,
    average_daily_census,
    bed_count_days,
    bed_turnover_rate,
    case_mix_index,
    daily_census,
    daily_censuses,
    death_rates,
    discharges,
    inpatient_service_days,
    length_of_stay,
    movements,
    observed_expected_los,
    occupancy,
    readmissions,
    rounded,
)

_ids = count(1)


def stay(
    admitted: datetime,
    discharged: datetime | None,
    *,
    unit: str = "4W",
    service: str = "MED",
    newborn: bool = False,
    disposition: str | None = "01",
    patient: str | None = None,
    attending: str | None = None,
    weight: str | None = None,
    gmlos: str | None = None,
    moves: tuple[Move, ...] | None = None,
) -> Stay:
    number = next(_ids)
    return Stay(
        encounter_id=f"E{number}",
        patient=patient or f"P{number}",
        admitted=admitted,
        discharged=discharged,
        moves=moves or (Move(admitted, unit, service),),
        newborn=newborn,
        disposition=disposition if discharged is not None else None,
        attending=attending,
        drg_weight=None if weight is None else Decimal(weight),
        gmlos=None if gmlos is None else Decimal(gmlos),
    )


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour))


# -- census ---------------------------------------------------------------------------------------


def test_daily_inpatient_census_adds_the_patients_admitted_and_discharged_the_same_day() -> None:
    """Worked example, "Formula for inpatient census" (University Hospital), on Horton's ch. 3
    definition, http://www.solving-math-problems.com/formula-for-inpatient-census.html :
    the inpatient census at midnight on May 1 was 268;
    on May 2, 16 patients were admitted, 9 discharged, and 2 admitted and discharged the same
    day. Census at midnight May 2 = 268 + 16 - 9 = 275; daily inpatient census = 275 + 2 = 277."""
    may1, may2 = date(2012, 5, 1), date(2012, 5, 2)
    staying = [stay(at(may1, 9), at(date(2012, 5, 9))) for _ in range(268 - 9)]
    leaving = [stay(at(may1, 9), at(may2, 11)) for _ in range(9)]
    admitted = [stay(at(may2, 15), at(date(2012, 5, 6))) for _ in range(16)]
    same_day = [stay(at(may2, 8), at(may2, 17)) for _ in range(2)]
    stays = staying + leaving + admitted + same_day

    assert daily_census(stays, may1).in_beds == 268
    census = daily_census(stays, may2)
    assert census.in_beds == 268 + 16 - 9 == 275
    assert census.admitted_and_discharged == 2
    assert census.daily_inpatient_census == 268 + 16 - 9 + 2 == 277


def test_a_units_service_days_count_only_the_patients_in_that_unit() -> None:
    """Horton, ch. 3, exercise 5 (Community Hospital; the answer key at
    https://www.scribd.com/doc/204088238/Horton-Ch-3-Test-Answers reads the ICU apart from the
    hospital's 321): at 11:59 pm on January 1 the census was 321, the ICU's 12. On January 2,
    73 were admitted, 24 discharged, 3 admitted and died that day; in the ICU 4 admitted, 3
    discharged, 1 admitted and died. Census: 321 + 73 - 24 = 370, the ICU 12 + 4 - 3 = 13,
    the facility 370 + 13 = 383 (the key's figure); daily inpatient census 383 + 3 + 1 = 387;
    ICU inpatient service days 13 + 1 = 14."""
    jan1, jan2 = date(2013, 1, 1), date(2013, 1, 2)
    later = at(date(2013, 1, 8))
    stays = (
        [stay(at(jan1, 8), later, unit="ICU") for _ in range(12 - 3)]
        + [stay(at(jan1, 8), at(jan2, 10), unit="ICU") for _ in range(3)]
        + [stay(at(jan1, 8), later) for _ in range(321 - 24)]
        + [stay(at(jan1, 8), at(jan2, 10)) for _ in range(24)]
        + [stay(at(jan2, 14), later, unit="ICU") for _ in range(4)]
        + [stay(at(jan2, 14), later) for _ in range(73)]
        + [stay(at(jan2, 9), at(jan2, 20), unit="ICU", disposition="20")]
        + [stay(at(jan2, 9), at(jan2, 20), disposition="20") for _ in range(3)]
    )
    hospital = daily_census(stays, jan2)
    assert hospital.in_beds == (321 + 73 - 24) + (12 + 4 - 3) == 383
    assert hospital.daily_inpatient_census == 383 + 3 + 1 == 387
    icu = Scope(unit="ICU")
    assert daily_census(stays, jan1, scope=icu).in_beds == 12
    assert daily_census(stays, jan2, scope=icu).in_beds == 12 + 4 - 3 == 13
    assert inpatient_service_days(stays, Period(jan2, jan2), scope=icu) == 12 + 4 - 3 + 1 == 14
    ward = Scope(unit="4W")
    assert daily_census(stays, jan2, scope=ward).daily_inpatient_census == 321 + 73 - 24 + 3


def test_a_units_day_recapitulated_with_its_transfers() -> None:
    """Worked example, "Unit census calculation", https://mantrapaloalto.com/biology/
    unit-census-calculation-reflecting-on-patient-admissions-and-discharges.html : April 1
    unit census 21; April 2: 3 admissions, 2 discharges, 2 transfers in, 1 transfer out, 2
    admitted and discharged the same day. Census 21 + 3 + 2 - 2 - 1 = 23; with the 2 A&D, 25
    (the example's answer)."""
    apr1, apr2, later = date(2024, 4, 1), date(2024, 4, 2), at(date(2024, 4, 9))
    stays = [stay(at(apr1, 8), later, unit="3N") for _ in range(21 - 2 - 1)]
    stays += [stay(at(apr1, 8), at(apr2, 11), unit="3N") for _ in range(2)]
    stays += [
        stay(
            at(apr1, 8),
            later,
            moves=(Move(at(apr1, 8), "3N", "MED"), Move(at(apr2, 10), "ICU", "MED")),
        )
    ]
    stays += [
        stay(
            at(date(2024, 3, 30), 8),
            later,
            moves=(Move(at(date(2024, 3, 30), 8), "ICU", "MED"), Move(at(apr2, 15), "3N", "MED")),
        )
        for _ in range(2)
    ]
    stays += [stay(at(apr2, 13), later, unit="3N") for _ in range(3)]
    stays += [stay(at(apr2, 7), at(apr2, 19), unit="3N") for _ in range(2)]
    unit = Scope(unit="3N")
    assert daily_census(stays, apr1, scope=unit).in_beds == 21
    day = movements(stays, Period(apr2, apr2), scope=unit)[0]
    assert (day.admissions, day.discharges) == (3 + 2, 2 + 2)
    assert (day.transfers_in, day.transfers_out, day.admitted_and_discharged) == (2, 1, 2)
    census = daily_census(stays, apr2, scope=unit)
    assert census.in_beds == 21 + 3 + 2 - 2 - 1 == 23
    assert census.daily_inpatient_census == 21 + 3 + 2 - 2 - 1 + 2 == 25
    hospital = movements(stays, Period(apr2, apr2))[0]
    assert (hospital.transfers_in, hospital.transfers_out) == (0, 0)


def test_a_transfer_at_midnight_belongs_to_the_day_it_starts() -> None:
    """A move at 00:00 on March 3 is March 3's transfer (the midnight census counts by dates),
    so March 2's census still finds the patient in 4W, and March 3's in ICU."""
    start = at(date(2024, 3, 1), 9)
    moved = stay(
        start,
        at(date(2024, 3, 6)),
        moves=(Move(start, "4W", "MED"), Move(datetime(2024, 3, 3), "ICU", "MED")),
    )
    days = Period(date(2024, 3, 2), date(2024, 3, 3))
    assert [c.in_beds for c in daily_censuses([moved], days, scope=Scope(unit="4W"))] == [1, 0]
    assert [c.in_beds for c in daily_censuses([moved], days, scope=Scope(unit="ICU"))] == [0, 1]
    icu = movements([moved], days, scope=Scope(unit="ICU"))
    assert [d.transfers_in for d in icu] == [0, 1]


def test_average_daily_census_is_service_days_over_the_days_of_the_period() -> None:
    """Horton, ch. 3, average daily inpatient census = total inpatient service days / days in
    the period; the 18-bed unit of the December example below: 165 + 162 + 180 = 507 service
    days over 31 days = 16.35."""
    stays = _december_unit()
    december = Period(date(2023, 12, 1), date(2023, 12, 31))
    assert average_daily_census(stays, december) == Fraction(165 + 162 + 180, 31)
    assert rounded(average_daily_census(stays, december)) == Decimal("16.35")


def test_newborns_are_counted_apart_from_adults_and_children() -> None:
    """Horton, ch. 3 and 4: newborn census and bassinet counts are kept apart from adults and
    children. Three mothers and two newborns on a day: A&C census 3, newborn census 2; with 20
    beds and 4 bassinets, bed count days 20 and bassinet count days 4."""
    day = date(2024, 3, 4)
    mothers = [stay(at(day, 6), at(date(2024, 3, 6)), unit="OB") for _ in range(3)]
    babies = [stay(at(day, 7), at(date(2024, 3, 6)), unit="OB", newborn=True) for _ in range(2)]
    stays = mothers + babies
    beds = [BedCount("OB", beds=20, bassinets=4, start=date(2024, 1, 1))]
    assert daily_census(stays, day).daily_inpatient_census == 3
    assert daily_census(stays, day, scope=NEWBORNS).daily_inpatient_census == 2
    one_day = Period(day, day)
    assert bed_count_days(beds, one_day) == 20
    assert bed_count_days(beds, one_day, scope=NEWBORNS) == 4
    bassinets = occupancy(stays, beds, one_day, scope=NEWBORNS)
    assert bassinets.percent == Fraction(2 * 100, 4)


def test_a_census_hour_other_than_midnight() -> None:
    """AHIMA glossary / Horton ch. 3: the census-taking time is the hospital's (usually
    midnight); the daily census adds the inpatients admitted and discharged *after the census
    of the previous day*. Census at 11:00: admitted at 08:00 and discharged at 15:00 on May 1,
    in a bed at May 1's census (counted once); admitted at 12:00 on May 1 (after that census)
    and discharged at 14:00, before May 2's: admitted and discharged in May 2's 24 hours; and
    admitted at 12:00 on May 1 and discharged at 10:00 on May 2: the same."""
    may1, may2 = date(2024, 5, 1), date(2024, 5, 2)
    stays = [
        stay(at(may1, 8), at(may1, 15)),
        stay(at(may1, 12), at(may1, 14)),
        stay(at(may1, 12), at(may2, 10)),
    ]
    first = daily_census(stays, may1, census_hour=time(11))
    second = daily_census(stays, may2, census_hour=time(11))
    assert (first.in_beds, first.admitted_and_discharged) == (1, 0)
    assert (second.in_beds, second.admitted_and_discharged) == (0, 2)
    midnight = daily_censuses(stays, Period(may1, may2))
    assert [(c.in_beds, c.admitted_and_discharged) for c in midnight] == [(1, 2), (0, 0)]


# -- beds and occupancy ---------------------------------------------------------------------------


def test_percentage_of_occupancy_for_a_month() -> None:
    """Worked example, "Inpatient occupancy rate",
    https://www.easycalculation.com/medical/learn-inpatient-occupancy-rate.php :
    in June 4,000 inpatient
    service days were given in a hospital of 150 beds; occupancy = 4000 x 100 / (150 x 30) =
    88.89 %."""
    june = Period(date(2016, 6, 1), date(2016, 6, 30))
    whole_month = [stay(at(date(2016, 5, 31)), at(date(2016, 7, 1))) for _ in range(133)]
    same_day = [stay(at(date(2016, 6, 5), 8), at(date(2016, 6, 5), 18)) for _ in range(10)]
    stays = whole_month + same_day
    beds = [BedCount("4W", beds=150, bassinets=0, start=date(2010, 1, 1))]
    found = occupancy(stays, beds, june)
    assert found.service_days == 133 * 30 + 10 == 4000
    assert found.bed_count_days == 150 * 30
    assert found.percent == Fraction(4000 * 100, 150 * 30)
    assert rounded(found.percent) == Decimal("88.89")
    assert not found.overfilled


def test_percentage_of_occupancy_for_half_a_year() -> None:
    """Worked example, a 50-bed hospital with 9,001 inpatient service days from January to June
    (181 days),
    https://indextestingapp.uonbi.ac.ke/preguntia/29138385 :
    9001 x 100 / (50 x 181) = 99.46 %, given as 99.5."""
    period = Period(date(2023, 1, 1), date(2023, 6, 30))
    assert period.days == 31 + 28 + 31 + 30 + 31 + 30 == 181
    stays = [stay(at(date(2022, 12, 20)), at(date(2023, 7, 3))) for _ in range(49)]
    stays.append(stay(at(date(2023, 1, 1)), at(date(2023, 1, 1) + timedelta(days=132))))
    beds = [BedCount("4W", beds=50, bassinets=0, start=date(2020, 1, 1))]
    found = occupancy(stays, beds, period)
    assert found.service_days == 49 * 181 + 132 == 9001
    assert found.percent == Fraction(9001 * 100, 50 * 181)
    assert rounded(found.percent, 1) == Decimal("99.5")


def _december_unit() -> list[Stay]:
    """An 18-bed unit with 165 service days from December 1 to 10, 162 from 11 to 20 and 180
    from 21 to 31: 16 patients for each block, and 5, 2 and 4 admitted and discharged the same
    day on days of the block (the census never above 17)."""
    stays: list[Stay] = []
    for first, last, same_day in ((1, 10, 5), (11, 20, 2), (21, 31, 4)):
        start, end = date(2023, 12, first), date(2023, 12, last)
        stays += [stay(at(start, 9), at(end + timedelta(days=1), 10)) for _ in range(16)]
        stays += [
            stay(at(start + timedelta(days=n), 8), at(start + timedelta(days=n), 16))
            for n in range(same_day)
        ]
    return stays


def test_occupancy_of_a_unit_in_parts_of_a_month() -> None:
    """Worked example, an HIM statistics exercise, https://justaaa.com/statistics-and-probability/
    101588-1-on-may-5-a-hospital-with-70-beds-has-an (question 2): a unit of 18 beds had 165
    inpatient service days December 1-10, 162 on 11-20, 180 on 21-31. Occupancy 165/180 =
    91.67 %, 162/180 = 90.00 %, 180/198 = 90.91 %; the month 507/558 = 90.86 %."""
    stays = _december_unit()
    beds = [BedCount("4W", beds=18, bassinets=0, start=date(2023, 1, 1))]
    blocks = [
        (Period(date(2023, 12, 1), date(2023, 12, 10)), 165, "91.67"),
        (Period(date(2023, 12, 11), date(2023, 12, 20)), 162, "90.00"),
        (Period(date(2023, 12, 21), date(2023, 12, 31)), 180, "90.91"),
        (Period(date(2023, 12, 1), date(2023, 12, 31)), 165 + 162 + 180, "90.86"),
    ]
    for period, service_days, published in blocks:
        found = occupancy(stays, beds, period, scope=Scope(unit="4W"))
        assert found.service_days == service_days
        assert found.percent == Fraction(service_days * 100, 18 * period.days)
        assert rounded(found.percent) == Decimal(published)


def test_bed_count_days_follow_the_count_in_force_each_day() -> None:
    """Horton, ch. 4, bed count days when the count changes: a unit of 150 beds from April 1 to
    15 and 175 beds from April 16 to 30 has 150 x 15 + 175 x 15 = 4,875 bed count days, and an
    average bed count of 4875 / 30 = 162.5. A unit that closes on April 10 counts until then."""
    april = Period(date(2024, 4, 1), date(2024, 4, 30))
    beds = [
        BedCount("4W", beds=150, bassinets=0, start=date(2020, 1, 1), end=date(2024, 4, 15)),
        BedCount("4W", beds=175, bassinets=0, start=date(2024, 4, 16)),
        BedCount("5E", beds=10, bassinets=2, start=date(2024, 1, 1), end=date(2024, 4, 10)),
    ]
    assert bed_count_days(beds, april, scope=Scope(unit="4W")) == 150 * 15 + 175 * 15 == 4875
    assert average_bed_count(beds, april, scope=Scope(unit="4W")) == Fraction(4875, 30)
    assert bed_count_days(beds, april, scope=Scope(unit="5E")) == 10 * 10
    assert bed_count_days(beds, april, scope=NEWBORNS) == 2 * 10
    assert bed_count_days(beds, april) == 4875 + 100


def test_a_new_bed_count_supersedes_the_one_still_open() -> None:
    """A count change recorded as a new count from April 16, the old one left open (no end):
    from the 16th the later count is in force, whatever order the facts come in, so April
    again has 150 x 15 + 175 x 15 bed count days."""
    april = Period(date(2024, 4, 1), date(2024, 4, 30))
    new = BedCount("4W", beds=175, bassinets=0, start=date(2024, 4, 16))
    old = BedCount("4W", beds=150, bassinets=0, start=date(2020, 1, 1))
    assert bed_count_days([new, old], april) == 150 * 15 + 175 * 15
    assert bed_count_days([old, new], april) == 150 * 15 + 175 * 15


def test_occupancy_above_100_percent_is_not_capped_and_says_the_beds_were_overfilled() -> None:
    """Horton, ch. 4 ("disaster beds"): in a disaster or an epidemic beds are added beyond the
    bed count, and only then is occupancy above 100 %. Two beds, three patients on March 2:
    3 x 100 / 2 = 150 % that day, reported, and the day named."""
    day = date(2024, 3, 2)
    stays = [stay(at(day, 1), at(date(2024, 3, 3))) for _ in range(3)]
    beds = [BedCount("4W", beds=2, bassinets=0, start=date(2024, 1, 1))]
    found = occupancy(stays, beds, Period(day, day))
    assert found.percent == Fraction(3 * 100, 2)
    assert found.overfilled
    assert found.overfilled_days == (day,)


def test_bed_turnover_rate() -> None:
    """Worked example, "Bed turnover rate" (Horton's direct formula),
    https://www.easycalculation.com/medical/bed-turnover-rate.php :
    an average of 200 beds from June to August 2016 and 20 discharges (deaths included) in the
    period: 20 / 200 = 0.1."""
    summer = Period(date(2016, 6, 1), date(2016, 8, 31))
    beds = [BedCount("4W", beds=200, bassinets=0, start=date(2016, 1, 1))]
    stays = [stay(at(date(2016, 6, 3)), at(date(2016, 6, 7))) for _ in range(19)]
    stays.append(stay(at(date(2016, 7, 3)), at(date(2016, 7, 4)), disposition="20"))
    assert bed_turnover_rate(stays, beds, summer) == Fraction(20, 200)


# -- length of stay -------------------------------------------------------------------------------


def test_length_of_stay_and_its_average() -> None:
    """Worked example, "Length of stay",
    https://www.easycalculation.com/medical/learn-length-of-stay.php : four patients in April 2013,
    admitted on the 4th, 2nd, 15th and 22nd and discharged on the 10th, 13th, 20th and 30th:
    LOS 6, 11, 5 and 8, total 30 discharge days, average 30 / 4 = 7.5 days."""
    pairs = [(4, 10), (2, 13), (15, 20), (22, 30)]
    stays = [stay(at(date(2013, 4, a)), at(date(2013, 4, d))) for a, d in pairs]
    found = length_of_stay(stays, Period(date(2013, 4, 1), date(2013, 4, 30)))
    assert [s.length_of_stay() for s in stays] == [6, 11, 5, 8]
    assert found.discharge_days == 6 + 11 + 5 + 8 == 30
    assert found.average == Fraction(30, 4)


def test_a_same_day_stay_counts_one_day() -> None:
    """Horton, ch. 5: a patient admitted and discharged on the same day has a length of stay
    of one day (never zero). One such stay and one of three days: 1 + 3 = 4 days, average 2."""
    day = date(2024, 2, 1)
    stays = [stay(at(day, 8), at(day, 20)), stay(at(day, 9), at(date(2024, 2, 4)))]
    found = length_of_stay(stays, Period(day, date(2024, 2, 29)))
    assert (found.discharges, found.discharge_days, found.average) == (2, 4, Fraction(2))


# -- deaths ---------------------------------------------------------------------------------------


def _deaths(discharged: int, died: int, early: int) -> list[Stay]:
    """Stays discharged in March 2024: `died` of them by death, `early` less than 48 h after
    admission (one day), the others after five days."""
    start, end = at(date(2024, 3, 1), 8), date(2024, 3, 31)
    alive = [stay(start, at(end)) for _ in range(discharged - died)]
    late = [stay(start, start + timedelta(days=5), disposition="20") for _ in range(died - early)]
    soon = [stay(start, start + timedelta(hours=47), disposition="41") for _ in range(early)]
    return alive + late + soon


def test_gross_and_net_death_rates_valley_general() -> None:
    """Worked example, Valley General Hospital (an HIM statistics exercise on deaths and
    discharges, writemyclassessay.com, "Use data provided on deaths and discharges of Community
    Hospital"): 700 discharges including deaths, 30 deaths, 10 of them less than 48
    hours after admission. Gross = 30 x 100 / 700 = 4.29 %; net = (30 - 10) x 100 / (700 - 10)
    = 2.90 %."""
    found = death_rates(_deaths(700, 30, 10), Period(date(2024, 3, 1), date(2024, 3, 31)))
    assert (found.discharges, found.deaths, found.early_deaths) == (700, 30, 10)
    assert found.gross_percent == Fraction(30 * 100, 700)
    assert found.net_percent == Fraction((30 - 10) * 100, 700 - 10)
    assert (rounded(found.gross_percent), rounded(found.net_percent)) == (
        Decimal("4.29"),
        Decimal("2.90"),
    )


def test_gross_and_net_death_rates_community_hospital() -> None:
    """Worked example, Community Hospital (same exercise): 1,200 A&C discharges including
    deaths, 22 deaths, 3 less than 48 hours after admission. Gross = 22 x 100 / 1200 = 1.83 %;
    net = 19 x 100 / 1197 = 1.59 %."""
    found = death_rates(_deaths(1200, 22, 3), Period(date(2024, 3, 1), date(2024, 3, 31)))
    assert rounded(found.gross_percent) == Decimal("1.83")
    assert found.net_percent == Fraction(19 * 100, 1197)
    assert rounded(found.net_percent) == Decimal("1.59")


def test_a_death_at_exactly_48_hours_is_not_an_early_death() -> None:
    """Horton, ch. 6: the net death rate leaves out deaths *less than* 48 hours after
    admission; a death at 48 hours stays in."""
    start = at(date(2024, 3, 1), 8)
    stays = [stay(start, start + timedelta(hours=48), disposition="20")]
    found = death_rates(stays, Period(date(2024, 3, 1), date(2024, 3, 31)))
    assert (found.deaths, found.early_deaths) == (1, 0)


def test_the_nubc_codes_and_words_of_death() -> None:
    """NUBC UB-04 FL 17: 20 expired, 40/41/42 expired (hospice); 01 home is not a death."""
    day = at(date(2024, 1, 2))
    for code in ("20", "40", "41", "42", "expired", "died"):
        assert stay(at(date(2024, 1, 1)), day, disposition=code).died, code
    for code in ("01", "02", "07", "50"):
        assert not stay(at(date(2024, 1, 1)), day, disposition=code).died, code


# -- readmissions ---------------------------------------------------------------------------------


def test_crude_readmissions_within_30_days_and_the_exclusions_applied() -> None:
    """A worked example on the CMS all-cause readmission definition (index discharge, an
    inpatient admission within 30 days of its discharge date; index discharges by death, by
    transfer to another acute hospital (NUBC 02) and against medical advice (NUBC 07) left
    out). Ten discharges in January 2024: 1 death, 1 transfer (02), 1 AMA (07), so 7 index
    discharges; 2 of them readmitted (on day 30, and on the day of discharge), 1 readmitted on
    day 31 (not counted); the AMA patient readmitted (not an index). Rate 2 x 100 / 7. The
    readmissions of C and E were discharged home in January too: with them, 9 index discharges
    (neither readmitted), rate 2 x 100 / 9."""
    jan = Period(date(2024, 1, 1), date(2024, 1, 31))
    out = date(2024, 1, 10)

    def index(disposition: str, patient: str) -> Stay:
        return stay(at(date(2024, 1, 5)), at(out, 10), disposition=disposition, patient=patient)

    stays = [
        index("20", "A"),
        index("02", "B"),
        index("07", "C"),
        stay(at(date(2024, 1, 12)), at(date(2024, 1, 14)), patient="C"),
        index("01", "D"),
        stay(at(out + timedelta(days=30)), at(out + timedelta(days=33)), patient="D"),
        index("01", "E"),
        stay(at(out, 18), at(date(2024, 1, 12)), patient="E"),
        index("01", "F"),
        stay(at(out + timedelta(days=31)), at(out + timedelta(days=35)), patient="F"),
        index("01", "G"),
        index("01", "H"),
        index("01", "I"),
        index("01", "J"),
    ]
    found = readmissions(stays, jan)
    # discharged in January: the ten index stays, plus C's and E's second stays (both home)
    assert found.index_discharges == 7 + 2
    assert dict(found.excluded) == {
        "expired": 1,
        "short-term-hospital": 1,
        "against-medical-advice": 1,
    }
    assert set(dict(found.excluded)) == set(EXCLUDED_FROM_READMISSION)
    assert found.readmitted == 2
    assert found.percent == Fraction(2 * 100, 9)
    assert not found.adjusted
    assert "unadjusted" in found.label
    first_stays = [s for s in stays if s.discharged and s.discharged.date() == out]
    assert len(first_stays) == 10
    only_index = readmissions(first_stays + [s for s in stays if s not in first_stays], jan)
    assert only_index.readmitted == 2
    window = Period(out, out)
    only_first = readmissions(stays, window)
    assert (only_first.index_discharges, only_first.readmitted) == (7, 2)
    assert only_first.percent == Fraction(2 * 100, 7)


# -- case mix -------------------------------------------------------------------------------------


def test_case_mix_index_from_the_sum_of_relative_weights() -> None:
    """Worked example (an AHIMA-style exam question), https://questionai.com/amp/questions-
    tQ4iWsPVer/sum-hospitals-relative-drg-weights-year-15192-hospital : the sum of a hospital's
    DRG relative weights for a year was 15,192 over 10,471 discharges: CMI = 15192 / 10471 =
    1.45. Built as 4,721 discharges of weight 2 and 5,750 of weight 1; one ungrouped discharge
    is reported apart, not counted."""
    year = Period(date(2023, 1, 1), date(2023, 12, 31))
    admitted, out = at(date(2023, 3, 1)), at(date(2023, 3, 4))
    stays = [stay(admitted, out, weight="2") for _ in range(4721)]
    stays += [stay(admitted, out, weight="1") for _ in range(5750)]
    stays.append(stay(admitted, out))
    found = case_mix_index(stays, year)
    assert (found.grouped, found.weight_total, found.ungrouped) == (10471, Decimal(15192), 1)
    assert found.index == Fraction(15192, 10471)
    assert rounded(found.index) == Decimal("1.45")


def test_observed_over_expected_length_of_stay_against_gmlos() -> None:
    """CMS FY2026 IPPS Table 5 GMLOS: MS-DRG 470 (major hip and knee joint replacement without
    MCC) 1.9 days, MS-DRG 291 (heart failure and shock with MCC) 3.8 days. Two 470 stays of 2
    and 3 days and one 291 stay of 5 days: observed 10 days, expected 1.9 + 1.9 + 3.8 = 7.6,
    O/E = 10 / 7.6 = 1.32."""
    start = at(date(2025, 11, 1))
    stays = [
        stay(start, start + timedelta(days=2), weight="1.9289", gmlos="1.9"),
        stay(start, start + timedelta(days=3), weight="1.9289", gmlos="1.9"),
        stay(start, start + timedelta(days=5), weight="1.2838", gmlos="3.8"),
        stay(start, start + timedelta(days=9)),
    ]
    found = observed_expected_los(stays, Period(date(2025, 11, 1), date(2025, 11, 30)))
    assert (found.stays, found.observed_days, found.ungrouped) == (3, 10, 1)
    assert found.expected_days == Decimal("7.6")
    assert found.ratio == Fraction(10) / Fraction("7.6")
    assert rounded(found.ratio) == Decimal("1.32")
    assert found.observed_average == Fraction(10, 3)


# -- scopes ---------------------------------------------------------------------------------------


def test_discharges_count_where_the_patient_lay_at_discharge_and_by_attending() -> None:
    """By service and by physician (issue 13, item 3): a stay moved from MED to SURG counts in
    SURG's discharges; an attending's figure counts only that attending's stays."""
    start = at(date(2024, 6, 1), 8)
    moved = stay(
        start,
        at(date(2024, 6, 5)),
        attending="dr-a",
        moves=(Move(start, "4W", "MED"), Move(at(date(2024, 6, 3)), "OR", "SURG")),
    )
    other = stay(start, at(date(2024, 6, 4)), attending="dr-b")
    june = Period(date(2024, 6, 1), date(2024, 6, 30))
    assert discharges([moved, other], june, scope=Scope(service="SURG")) == (moved,)
    assert discharges([moved, other], june, scope=Scope(service="MED")) == (other,)
    assert discharges([moved, other], june, scope=Scope(attending="dr-b")) == (other,)
    # the census follows the move: MED on June 1 and 2, SURG from June 3
    med = Scope(service="MED")
    assert [c.in_beds for c in daily_censuses([moved], june, scope=med)][:4] == [1, 1, 0, 0]


# -- periods that cannot be answered --------------------------------------------------------------


def test_a_period_that_ends_before_it_starts_is_one_sentence() -> None:
    with pytest.raises(PeriodProblem) as raised:
        Period(date(2024, 3, 31), date(2024, 3, 1))
    assert str(raised.value) == "The period ends (2024-03-01) before it starts (2024-03-31)."
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "figure",
    [
        lambda s, b, p: inpatient_service_days(s, p),
        lambda s, b, p: average_daily_census(s, p),
        lambda s, b, p: length_of_stay(s, p),
        lambda s, b, p: death_rates(s, p),
        lambda s, b, p: readmissions(s, p),
        lambda s, b, p: case_mix_index(s, p),
        lambda s, b, p: observed_expected_los(s, p),
        lambda s, b, p: bed_turnover_rate(s, b, p),
        lambda s, b, p: bed_count_days([], p),
    ],
)
def test_a_period_with_no_facts_is_one_sentence(figure: object) -> None:
    """A period no stay touches (stays of January, a period in July): one sentence naming the
    period, ending with a full stop, no traceback material."""
    stays = [stay(at(date(2024, 1, 2)), at(date(2024, 1, 5)), weight="1", gmlos="2")]
    beds = [BedCount("4W", beds=10, bassinets=0, start=date(2024, 1, 1))]
    july = Period(date(2024, 7, 1), date(2024, 7, 31))
    with pytest.raises(PeriodProblem) as raised:
        figure(stays, beds, july)  # type: ignore[operator]
    text = str(raised.value)
    assert "2024-07-01 to 2024-07-31" in text
    assert text.endswith(".") and text.count(". ") == 0 and "\n" not in text


# -- properties -----------------------------------------------------------------------------------

MONTH = Period(date(2024, 2, 1), date(2024, 2, 29))


@st.composite
def stays_around_a_month(draw: st.DrawFn) -> list[Stay]:
    found: list[Stay] = []
    for _ in range(draw(st.integers(min_value=1, max_value=25))):
        admitted = datetime(2024, 1, 20) + timedelta(
            days=draw(st.integers(0, 45)), minutes=draw(st.integers(0, 24 * 60 - 1))
        )
        if draw(st.booleans()) and draw(st.booleans()):
            discharged = None
        else:
            discharged = admitted + timedelta(minutes=draw(st.integers(1, 20 * 24 * 60)))
        disposition = draw(st.sampled_from(["01", "02", "07", "20", "41", "03"]))
        found.append(
            stay(
                admitted,
                discharged,
                unit=draw(st.sampled_from(["4W", "5E"])),
                disposition=disposition,
                patient=draw(st.sampled_from(["P1", "P2", "P3", "P4"])),
            )
        )
    return found


def _occupied_days(s: Stay) -> set[date]:
    """The days a stay holds a bed at a midnight census, worked out from its dates alone: the
    admission day up to the day before discharge; a same-day stay its one day."""
    first = s.admitted.date()
    last = (s.discharged.date() if s.discharged else date(2100, 1, 1)) - timedelta(days=1)
    if s.discharged is not None and s.discharged.date() == first:
        return {first}
    return {
        first + timedelta(days=n) for n in range((min(last, date(2024, 4, 1)) - first).days + 1)
    }


@settings(max_examples=60, deadline=None)
@given(stays_around_a_month())
def test_the_daily_censuses_of_a_month_add_up_to_its_service_days(stays: list[Stay]) -> None:
    censuses = daily_censuses(stays, MONTH) if _touches(stays) else ()
    if not censuses:
        return
    total = sum(c.daily_inpatient_census for c in censuses)
    assert total == inpatient_service_days(stays, MONTH)
    assert total == sum(len([d for d in _occupied_days(s) if d in MONTH]) for s in stays)
    halves = (Period(MONTH.start, date(2024, 2, 14)), Period(date(2024, 2, 15), MONTH.end))
    assert total == sum(
        sum(c.daily_inpatient_census for c in censuses if c.day in h) for h in halves
    )


def _touches(stays: list[Stay]) -> bool:
    return any(
        s.admitted.date() <= MONTH.end
        and (s.discharged is None or s.discharged.date() >= MONTH.start)
        for s in stays
    )


@settings(max_examples=60, deadline=None)
@given(stays_around_a_month(), st.integers(1, 12), st.integers(1, 12))
def test_occupancy_is_at_most_100_percent_unless_a_day_was_overfilled(
    stays: list[Stay], west: int, east: int
) -> None:
    beds = [
        BedCount("4W", beds=west, bassinets=0, start=date(2024, 1, 1)),
        BedCount("5E", beds=east, bassinets=0, start=date(2024, 2, 10)),
    ]
    for scope in (Scope(), Scope(unit="4W"), Scope(unit="5E")):
        found = occupancy(stays, beds, MONTH, scope=scope)
        by_day = {c.day: c.daily_inpatient_census for c in _censuses_or_zero(stays, scope)}
        limits = {
            d: (west if scope.unit != "5E" else 0)
            + (east if scope.unit != "4W" and d >= date(2024, 2, 10) else 0)
            for d in MONTH.each_day()
        }
        over = tuple(d for d in MONTH.each_day() if by_day.get(d, 0) > limits[d])
        assert found.overfilled_days == over
        if not found.overfilled:
            assert found.percent <= 100
        if found.percent > 100:
            assert found.overfilled


def _censuses_or_zero(stays: list[Stay], scope: Scope) -> tuple[object, ...]:
    if _touches(stays):
        return daily_censuses(stays, MONTH, scope=scope)
    return ()


@settings(max_examples=60, deadline=None)
@given(stays_around_a_month())
def test_average_length_of_stay_times_discharges_is_the_discharge_days(stays: list[Stay]) -> None:
    try:
        found = length_of_stay(stays, MONTH)
    except PeriodProblem:
        assert not any(s.discharged and s.discharged.date() in MONTH for s in stays)
        return
    assert found.average * found.discharges == found.discharge_days
    assert found.discharge_days == sum(
        max(1, (s.discharged.date() - s.admitted.date()).days)
        for s in stays
        if s.discharged and s.discharged.date() in MONTH
    )


@settings(max_examples=60, deadline=None)
@given(stays_around_a_month())
def test_the_net_death_rate_is_never_above_the_gross(stays: list[Stay]) -> None:
    try:
        found = death_rates(stays, MONTH)
    except PeriodProblem:
        return
    assert 0 <= found.net_percent <= found.gross_percent <= 100


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(0, 23),
    st.one_of(st.none(), st.integers(0, 15 * 24)),
)
def test_a_stay_counts_once_per_day_it_occupies_a_bed(
    start_day: int, hour: int, hours: int | None
) -> None:
    admitted = datetime(2024, 1, 15, hour) + timedelta(days=start_day)
    discharged = None if hours is None else admitted + timedelta(hours=hours)
    one = stay(admitted, discharged)
    expected = _occupied_days(one)
    for census in daily_censuses([one], MONTH) if _touches([one]) else ():
        assert census.daily_inpatient_census == (1 if census.day in expected else 0)
    if discharged is not None and discharged.date() in MONTH:
        whole = Period(min(admitted.date(), MONTH.start), MONTH.end)
        assert inpatient_service_days([one], whole) == one.length_of_stay()


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(0, 24 * 60 - 1),
    st.integers(1, 10 * 24 * 60),
    st.sampled_from([time(6), time(11), time(23, 59)]),
)
def test_at_any_census_hour_a_stay_counts_once_per_census_it_is_in_a_bed(
    start_day: int, minute: int, minutes: int, census_hour: time
) -> None:
    """Worked out by brute force: the censuses (at `census_hour` each day) that fall in
    [admitted, discharged); a stay in none of them counts once, as admitted and discharged."""
    admitted = datetime(2024, 1, 15) + timedelta(days=start_day, minutes=minute)
    one = stay(admitted, admitted + timedelta(minutes=minutes))
    assert one.discharged is not None
    wide = Period(date(2024, 1, 1), date(2024, 4, 30))
    instants = [datetime.combine(day, census_hour) for day in wide.each_day()]
    in_bed = sum(1 for t in instants if admitted <= t < one.discharged)
    censuses = daily_censuses([one], wide, census_hour=census_hour)
    assert all(c.daily_inpatient_census <= 1 for c in censuses)
    assert sum(c.in_beds for c in censuses) == in_bed
    assert sum(c.daily_inpatient_census for c in censuses) == max(1, in_bed)


@st.composite
def stays_moving_between_units(draw: st.DrawFn) -> list[Stay]:
    found: list[Stay] = []
    for _ in range(draw(st.integers(min_value=1, max_value=15))):
        admitted = datetime(2024, 1, 25) + timedelta(minutes=draw(st.integers(0, 40 * 24 * 60)))
        minutes = draw(st.integers(1, 15 * 24 * 60))
        discharged = admitted + timedelta(minutes=minutes)
        offsets = (
            sorted(draw(st.lists(st.integers(1, minutes - 1), max_size=3))) if minutes > 1 else []
        )
        units = draw(
            st.lists(
                st.sampled_from(["4W", "5E", "ICU"]),
                min_size=len(offsets) + 1,
                max_size=len(offsets) + 1,
            )
        )
        later = [
            Move(admitted + timedelta(minutes=m), u, "MED")
            for m, u in zip(offsets, units[1:], strict=True)
        ]
        moves = (Move(admitted, units[0], "MED"), *later)
        found.append(
            stay(
                admitted,
                None if draw(st.booleans()) and draw(st.booleans()) else discharged,
                moves=moves,
            )
        )
    return found


@settings(max_examples=60, deadline=None)
@given(
    stays_moving_between_units(),
    st.sampled_from([time(0), time(11)]),
    st.sampled_from(["4W", "ICU", None]),
)
def test_each_days_census_is_the_last_plus_its_movements(
    stays: list[Stay], census_hour: time, unit: str | None
) -> None:
    """Horton, ch. 3, the census recapitulation: a unit's census is the previous day's plus
    admissions and transfers in, less discharges and transfers out (and the hospital's
    transfers in equal its transfers out)."""
    scope = Scope(unit=unit)
    period = Period(date(2024, 1, 20), date(2024, 3, 31))
    censuses = daily_censuses(stays, period, scope=scope, census_hour=census_hour)
    moved = movements(stays, period, scope=scope, census_hour=census_hour)
    assert censuses[0].in_beds == 0
    for before, census, day in zip(censuses, censuses[1:], moved[1:], strict=False):
        assert census.in_beds == (
            before.in_beds + day.admissions - day.discharges + day.transfers_in - day.transfers_out
        )
        assert census.admitted_and_discharged == day.admitted_and_discharged
    if unit is None:
        assert all(d.transfers_in == d.transfers_out == 0 for d in moved)
