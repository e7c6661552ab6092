"""The event organisers' screens: plan events and series, publish, cancel, follow registrations,
print or export the list of registrants, take attendance at the door."""
