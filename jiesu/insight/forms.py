"""Forms of the insight screens. Units, categories and areas are chosen by code."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from jiesu.catalogue.models import Category, RequestType, Urgency
from jiesu.desk.forms import TypedText
from jiesu.insight.models import Measure, Milestone, Topic, TopicItem
from jiesu.org.models import Area, AreaLevel, Unit


class MonthField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "month"})
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day

    def prepare_value(self, value):
        return value.strftime("%Y-%m") if isinstance(value, dt.date) else value


def _units():
    return Unit.objects.filter(is_active=True).order_by("kind", "path")


class TopicForm(forms.ModelForm):
    month = MonthField(label=_("Month"))
    lead_unit = forms.ModelChoiceField(label=_("Lead unit"), queryset=_units(), to_field_name="code")
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.filter(is_active=True),
                                      to_field_name="code", required=False)
    area = forms.ModelChoiceField(label=_("Area"), to_field_name="code", required=False,
                                  queryset=Area.objects.filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET]))

    class Meta:
        model = Topic
        fields = ["title", "month", "lead_unit", "status", "description", "category", "area", "keywords"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}



class TopicItemForm(forms.ModelForm):
    owner_unit = forms.ModelChoiceField(label=_("Owner unit"), queryset=_units(), to_field_name="code",
                                        required=False)

    class Meta:
        model = TopicItem
        fields = ["kind", "text", "owner_unit", "due"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2}), "due": forms.DateInput(attrs={"type": "date"})}



class LinkForm(forms.Form):
    number = TypedText(label=_("Order number"), max_length=20)


class MeasureForm(forms.ModelForm):
    owner_unit = forms.ModelChoiceField(label=_("Owner unit"), queryset=_units(), to_field_name="code")

    class Meta:
        model = Measure
        fields = ["title", "owner_unit", "category", "target", "description", "public"]
        widgets = {"target": forms.Textarea(attrs={"rows": 2}), "description": forms.Textarea(attrs={"rows": 3})}



class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = ["title", "due"]
        widgets = {"due": forms.DateInput(attrs={"type": "date"})}


class UpdateForm(forms.Form):
    percent = forms.IntegerField(label=_("Progress (%)"), min_value=0, max_value=100)
    evidence = TypedText(label=_("What was done (evidence)"), widget=forms.Textarea(attrs={"rows": 3}),
                               required=False, max_length=4000)
    links = TypedText(label=_("Links to evidence (one per line)"), widget=forms.Textarea(attrs={"rows": 2}),
                            required=False, max_length=5000)


class ProactiveForm(forms.Form):
    request_type = forms.ChoiceField(label=_("Type"), choices=RequestType.choices, initial=RequestType.OTHER)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    title = TypedText(label=_("Summary"), max_length=120, required=False)
    content = TypedText(label=_("What should be done, and why"), max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 5}))
    address = TypedText(label=_("Address"), max_length=255, required=False)
    area = forms.ModelChoiceField(label=_("Area"), to_field_name="code", required=False,
                                  queryset=Area.objects.filter(level__in=[AreaLevel.DISTRICT, AreaLevel.STREET]))
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.filter(is_active=True),
                                      to_field_name="code", required=False)
