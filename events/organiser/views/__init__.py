"""The organiser's screens, one module each (`urls` names them all)."""
