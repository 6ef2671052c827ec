from django.db import migrations


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarDay = apps.get_model("deadlines", "CalendarDay")
    CalendarYear = apps.get_model("deadlines", "CalendarYear")
    taken = set(CalendarDay.objects.values_list("date", flat=True))
    rows = [
        *((d, "holiday", str(n)) for d, n in chinese_calendar.constants.holidays.items()),
        *((d, "workday", str(n)) for d, n in chinese_calendar.constants.workdays.items()),
    ]
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d, kind=k, name=n, source="library") for d, k, n in rows if d not in taken],
        batch_size=500,
    )
    years = {d.year for d, _k, _n in rows}
    for year in range(min(years), max(years) + 1):
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "library"})


class Migration(migrations.Migration):
    dependencies = [("deadlines", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
