from django.db import migrations, models


def open_sittings_serve_their_desks_themes(apps, schema_editor):
    """The sittings open at the upgrade serve what their desk serves, as they did before."""
    DeskSession = apps.get_model("counselling", "DeskSession")
    through = DeskSession.themes.through
    rows = [
        through(desksession_id=session.pk, theme_id=theme.pk)
        for session in DeskSession.objects.filter(closed_at__isnull=True).prefetch_related(
            "desk__themes"
        )
        for theme in session.desk.themes.all()
    ]
    through.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("citedesmetiers", "0014_theme_last_check_in_help"),
        ("counselling", "0010_planfeed"),
    ]

    operations = [
        migrations.AddField(
            model_name="desksession",
            name="themes",
            field=models.ManyToManyField(
                help_text=(
                    "The themes this sitting calls visitors for: some or all of the desk's, "
                    "proposed at the opening from the plan."
                ),
                related_name="+",
                to="citedesmetiers.theme",
                verbose_name="themes served",
            ),
        ),
        migrations.RunPython(open_sittings_serve_their_desks_themes, migrations.RunPython.noop),
    ]
