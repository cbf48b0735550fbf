"""Signals of the register, for apps that show its data: sent where it changes in bulk."""

from django.dispatch import Signal

# Sent after ``registry.importing.zones_write`` wrote new or changed zones (bulk writes send
# no ``post_save``), inside its transaction.
zones_written = Signal()
