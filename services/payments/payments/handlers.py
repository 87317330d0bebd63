"""Consumers of the events other services publish, for the payments app.

One function per event type the app consumes, registered in one place. Like a view, a
handler calls the app's services; its writes and the record that the event was handled
share one transaction. None yet.
"""
