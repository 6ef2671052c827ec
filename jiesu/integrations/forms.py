from django import forms
from django.utils.translation import gettext_lazy as _

from jiesu.integrations.exchange.kinds import KINDS


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What to import"), choices=[(k.name, k.label) for k in KINDS.values()])
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
