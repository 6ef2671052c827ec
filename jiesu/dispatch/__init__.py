"""Smart dispatch (智能派单): the triage engine wired into the order lifecycle.

After an order is recorded, a task triages it (``services.triage_order``) and stores the
suggestion; above the configured confidence it is dispatched by the system, below it the
dispatcher's queue shows the suggestion with its reasons. When a dispatcher chooses otherwise,
the correction is recorded and becomes training data.
"""
